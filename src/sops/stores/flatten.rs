//! Flattened sops metadata for dotenv and INI (placeholder until implemented).
