//! YAML text -> branches and metadata (placeholder until implemented).
use crate::sops::stores::{LoadedFile, StoreError};

pub fn load(_input: &[u8]) -> Result<LoadedFile, StoreError> {
    Err(StoreError::new("yaml store not implemented yet"))
}
