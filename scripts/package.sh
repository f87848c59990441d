#!/usr/bin/env bash
# Packages every published crate as crates.io would receive it, lists the files of each package (so a stray
# file shows), checks that each carries its README and both licence texts, and verifies every package: cargo
# unpacks each .crate and builds it on its own, with the other crates of this workspace overlaid as if they
# were already published, so an adapter builds against the packaged core rather than the source tree.
# Nothing is uploaded. Exits non-zero on any failure.
#
#   scripts/package.sh                  # every published crate
#   scripts/package.sh --allow-dirty    # extra arguments go to `cargo package` (here: uncommitted changes)
set -euo pipefail
cd "$(dirname "$0")/.."

# The published crates, one a line; cargo packages them in dependency order. Every other workspace member
# must say `publish = false` (checked below), so a new crate cannot be left out unnoticed.
crates=(
    wslane
    wslane-async
    wslane-tokio
    wslane-async-std
    wslane-mio
    wslane-hyper
    wslane-embedded
)

# Which members are publishable, from the manifests ("publish": null means any registry).
mapfile -t publishable < <(cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
for p in meta["packages"]:
    if p["id"] in members and p["publish"] != []:
        print(p["name"])
' | sort)
mapfile -t listed < <(printf '%s\n' "${crates[@]}" | sort)
if [[ "${publishable[*]}" != "${listed[*]}" ]]; then
    echo "package: the list in scripts/package.sh (${listed[*]}) is not the set of publishable" \
        "workspace members (${publishable[*]}); add the crate here or mark it publish = false" >&2
    exit 1
fi

packages=()
for crate in "${crates[@]}"; do
    packages+=(-p "$crate")
done

failed=0
for crate in "${crates[@]}"; do
    echo "package $crate: files"
    files=$(cargo package --locked --list -p "$crate" "$@")
    sed 's/^/    /' <<<"$files"
    for required in Cargo.toml README.md LICENSE-MIT LICENSE-APACHE src/lib.rs; do
        if ! grep -qx "$required" <<<"$files"; then
            echo "package $crate: $required is missing from the package" >&2
            failed=1
        fi
    done
done
if [[ $failed != 0 ]]; then
    exit 1
fi

# Where the .crate files go (CARGO_TARGET_DIR is honoured) and each crate's version; earlier packages of the
# same versions are removed first, so a stale file cannot stand in for one that was not written.
declare -A versions
target_dir=
while read -r key value; do
    if [[ $key == target-directory ]]; then
        target_dir=$value
    else
        versions[$key]=$value
    fi
done < <(cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
print("target-directory", meta["target_directory"])
for p in meta["packages"]:
    print(p["name"], p["version"])')
# An earlier run's packages go first, and so do its unpacked copies: cargo unpacks the overlaid packages
# under the cargo home, in a directory named after the overlay's path, and reuses an unpacked crate of the
# same name and version without looking at its contents. With the same checkout path (a CI machine's), an
# earlier run's core would stand in for this one's, and an adapter would be verified against old code.
registry_src=${CARGO_HOME:-$HOME/.cargo}/registry/src
for crate in "${crates[@]}"; do
    rm -f "$target_dir/package/$crate-${versions[$crate]}.crate"
    for stale in "$registry_src"/*/"$crate-${versions[$crate]}"; do
        if [[ -d $stale ]]; then
            echo "package: removing an earlier unpacked copy of $crate ${versions[$crate]}"
            rm -rf "$stale"
        fi
    done
done

# Package and verify them all in one run, so the workspace's unpublished versions overlay the registry.
cargo package --locked "${packages[@]}" "$@"

for crate in "${crates[@]}"; do
    file=$target_dir/package/$crate-${versions[$crate]}.crate
    [[ -f $file ]] || { echo "package $crate: $file was not written" >&2; exit 1; }
    echo "package $crate: ok, $(tar -tzf "$file" | grep -vc '/$') files, $(( $(stat -c %s "$file") / 1024 )) KiB"
done
