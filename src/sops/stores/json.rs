//! The json store (placeholder until implemented).
use super::{LoadedFile, StoreError};
use crate::secret_bytes::SecretBytes;
use crate::sops::tree::{Map, Value};

pub fn load(_input: &[u8]) -> Result<LoadedFile, StoreError> {
    Err(StoreError::new("json store not implemented yet"))
}

pub fn emit_file(_branches: &[Map]) -> Result<SecretBytes, StoreError> {
    Err(StoreError::new("json store not implemented yet"))
}

pub fn emit_value(_value: &Value) -> Result<SecretBytes, StoreError> {
    Err(StoreError::new("json store not implemented yet"))
}
