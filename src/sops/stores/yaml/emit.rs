//! Branches -> YAML text as yaml.v3 prints it (placeholder until implemented).
use crate::secret_bytes::SecretBytes;
use crate::sops::stores::StoreError;
use crate::sops::tree::{Map, Value};

pub fn emit_file(_branches: &[Map]) -> Result<SecretBytes, StoreError> {
    Err(StoreError::new("yaml store not implemented yet"))
}

pub fn emit_value(_value: &Value) -> Result<SecretBytes, StoreError> {
    Err(StoreError::new("yaml store not implemented yet"))
}
