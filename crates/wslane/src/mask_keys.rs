//! mask_keys
