//! One file of an export, streamed to the bucket as a multipart upload: the writer holds
//! at most one part in memory ([`PART_BYTES`]), so a document of any size costs the same.
//! Objects are encrypted with SSE-KMS; an upload that fails is aborted (and the bucket's
//! lifecycle removes any left half-way).
//!
//! An upload outlives one invocation: [`Upload::pause`] answers where it stands (its id,
//! the parts sent) and keeps the bytes not yet sent as a part in an object of their own,
//! and [`Upload::resume`] takes it up again in the next invocation. A part sent after a
//! pause by an invocation that then failed is sent again under the same number by the
//! retry, and only the parts the state names make the object.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};

use super::ExportError;
use super::job::UploadState;

/// The size of a part: S3 takes 5 MiB at least, but for the last.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

pub struct Upload {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    buffer: Vec<u8>,
    parts: Vec<CompletedPart>,
    written: u64,
}

impl Upload {
    pub async fn start(
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<Self, ExportError> {
        let out = s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .send()
            .await
            .map_err(|e| ExportError::s3("CreateMultipartUpload", e))?;
        let upload_id = out
            .upload_id
            .ok_or_else(|| ExportError::s3("CreateMultipartUpload", "no upload id"))?;
        Ok(Self {
            s3: s3.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id,
            buffer: Vec::with_capacity(PART_BYTES),
            parts: Vec::new(),
            written: 0,
        })
    }

    /// Adds `bytes`, sending a part whenever one is full.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.buffer.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
        if self.buffer.len() >= PART_BYTES {
            self.send_part().await?;
        }
        Ok(())
    }

    /// Sends what is left and completes the object; answers its size in bytes.
    pub async fn finish(mut self) -> Result<u64, ExportError> {
        if !self.buffer.is_empty() || self.parts.is_empty() {
            self.send_part().await?;
        }
        self.s3
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| ExportError::s3("CompleteMultipartUpload", e))?;
        Ok(self.written)
    }

    /// Pauses the upload: the bytes not yet sent go to `pending_key` (when there are
    /// some), and the answer is all a later invocation needs to go on.
    pub async fn pause(self, pending_key: &str) -> Result<UploadState, ExportError> {
        let pending = if self.buffer.is_empty() {
            None
        } else {
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(pending_key)
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .body(ByteStream::from(self.buffer))
                .send()
                .await
                .map_err(|e| ExportError::s3("PutObject pending part", e))?;
            Some(pending_key.to_owned())
        };
        Ok(UploadState {
            key: self.key,
            upload_id: self.upload_id,
            parts: self
                .parts
                .iter()
                .map(|p| (p.part_number().unwrap_or(0), p.e_tag().map(str::to_owned)))
                .collect(),
            written: self.written,
            pending,
        })
    }

    /// Takes a paused upload up again, with the bytes it had not sent.
    pub async fn resume(
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        state: UploadState,
    ) -> Result<Self, ExportError> {
        let mut buffer = Vec::with_capacity(PART_BYTES);
        if let Some(pending) = &state.pending {
            let out = s3
                .get_object()
                .bucket(bucket)
                .key(pending)
                .send()
                .await
                .map_err(|e| ExportError::s3("GetObject pending part", e))?;
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| ExportError::s3("GetObject pending part", e))?;
            buffer.extend_from_slice(&bytes.into_bytes());
        }
        Ok(Self {
            s3: s3.clone(),
            bucket: bucket.to_owned(),
            key: state.key,
            upload_id: state.upload_id,
            buffer,
            parts: state
                .parts
                .into_iter()
                .map(|(number, e_tag)| {
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(e_tag)
                        .build()
                })
                .collect(),
            written: state.written,
        })
    }

    /// Gives the upload up (its parts are deleted).
    pub async fn abort(self) {
        let aborted = self
            .s3
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::warn!(error = %crate::telemetry::error_chain(&e), "an export's upload could not be aborted; the bucket's lifecycle removes it");
        }
    }

    async fn send_part(&mut self) -> Result<(), ExportError> {
        let number = self.parts.len() as i32 + 1;
        let body = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES));
        let out = self
            .s3
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| ExportError::s3("UploadPart", e))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build(),
        );
        Ok(())
    }
}
