//! Write credentials of a private node: `GET /v1/credentials/key` (the issuer's public
//! key) and `POST /v1/credentials` (a paired device, or the owner of one, asks for blind
//! signatures on its blinded token messages, signing the request). Issuance is
//! authenticated; the credentials the holder finishes from the answer name no one when
//! shown with a put. A shared node answers `mode_refused`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use bitcoin::secp256k1::PublicKey;

use super::blocking;
use super::error::ApiError;
use super::params::{parse_hex, parse_json};
use crate::service::{CredentialHolder, CredentialKeyInfo, CredentialRequest, LedgerService};
pub use carchain_core::protocol::api::{
    CredentialHolder as HolderJson, CredentialRequest as CredentialRequestJson,
    Credentials as CredentialsJson,
};

fn request(json: CredentialRequestJson) -> Result<CredentialRequest, ApiError> {
    let holder = match json.holder {
        HolderJson::Device { vid } => CredentialHolder::Device { vid },
        HolderJson::Owner { vid, owner_pubkey } => {
            let bytes = parse_hex("owner_pubkey", &owner_pubkey)?;
            let owner_pubkey = PublicKey::from_slice(&bytes)
                .map_err(|_| ApiError::invalid("owner_pubkey is not a secp256k1 public key"))?;
            CredentialHolder::Owner { vid, owner_pubkey }
        }
    };
    let blinded = json
        .blinded
        .iter()
        .map(|text| parse_hex("blinded", text))
        .collect::<Result<Vec<_>, _>>()?;
    let signature = <[u8; 64]>::try_from(parse_hex("signature", &json.signature)?.as_slice())
        .map_err(|_| ApiError::invalid("signature must be 64 bytes (compact)"))?;
    Ok(CredentialRequest {
        holder,
        time: json.time,
        blinded,
        signature,
    })
}

/// `GET /v1/credentials/key`.
pub async fn key<S: LedgerService>(
    State(service): State<Arc<S>>,
) -> Result<Json<CredentialKeyInfo>, ApiError> {
    blocking(
        &service,
        super::super::service::LedgerService::credential_key,
    )
    .await
    .map(Json)
}

/// `POST /v1/credentials`.
pub async fn issue<S: LedgerService>(
    State(service): State<Arc<S>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CredentialsJson>, ApiError> {
    let body = body?;
    let request = request(parse_json(&body)?)?;
    let signed = blocking(&service, move |s| s.issue_credentials(&request)).await?;
    Ok(Json(CredentialsJson {
        signed: signed.iter().map(hex::encode).collect(),
    }))
}
