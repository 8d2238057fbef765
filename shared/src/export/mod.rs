//! A person's export (the rights of access and portability). The request finds the person's
//! contacts and records the export; its job, in the erasure function, streams one JSON
//! document (and, when asked for, a CSV of the messages) to the stack's bucket: every
//! contact as the API shows it, every message as the API shows it, and the callback
//! deliveries about them. The admin API hands out links valid for an hour at most; the
//! files and the record go after 7 days.
//!
//! The job is not resumed half-way: one that fails starts over on SQS's next delivery and
//! writes the same files again. It must finish within one invocation (about 130 s, some
//! 100,000 messages on the local stack; see docs/benchmarks.md).

pub mod document;
pub mod upload;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use serde::{Deserialize, Serialize};

use crate::conversations::Conversations;
use crate::domain::erasure::RequestState;
use crate::domain::export::{
    DOWNLOAD_LINK_SECS, EXPORT_SECS, ExportedDelivery, PersonExport, new_export_id,
};
use crate::domain::identity::IdentityKey;
use crate::domain::tenant::TenantId;
use crate::domain::timestamp::now_seconds;
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;
use crate::store::person::export::FinishedExport;
use crate::store::table::cursor::Cursor;
use crate::store::{Store, StoreError};
use crate::views::consent::ConsentEntryView;
use crate::views::contact::ContactView;
use crate::views::message::MessageView;
use document::{Document, Head};
use upload::Upload;

/// Messages read per page.
const MESSAGE_PAGE: i32 = 200;
/// Callback log items read per page.
const LOG_PAGE: i32 = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("S3 {op} failed")]
    S3 {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the export document was written out of order: {0}")]
    Order(&'static str),
    #[error("tenant id {0:?} in an export job is not valid")]
    BadTenant(String),
}

impl ExportError {
    pub(crate) fn s3(
        op: &'static str,
        e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::S3 {
            op,
            source: e.into(),
        }
    }
}

/// The job of one export: whom, by contact ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub tenant: String,
    pub export: String,
    pub contacts: Vec<String>,
    pub csv: bool,
}

/// What one run of an export job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    Done {
        contacts: u64,
        messages: u64,
        bytes: u64,
    },
    /// The export is no longer running (done before, failed, or gone).
    Stale,
}

/// Where exports are written.
#[derive(Clone)]
pub struct ExportBucket {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

#[derive(Clone)]
pub struct PersonExporter {
    store: Store,
    queue: JobQueue,
    bucket: ExportBucket,
}

impl PersonExporter {
    pub fn new(store: Store, queue: JobQueue, bucket: ExportBucket) -> Self {
        Self {
            store,
            queue,
            bucket,
        }
    }

    /// Starts exporting what the tenant holds about the person `person` names. Someone who
    /// was never a contact gets a document with no contacts.
    pub async fn request(
        &self,
        tenant: &TenantId,
        person: &IdentityKey,
        csv: bool,
        requested_by: &str,
        now: i64,
    ) -> Result<PersonExport, ExportError> {
        let footprint = self.store.person_footprint(tenant, person, now).await?;
        let export = PersonExport {
            id: new_export_id(now),
            tenant_id: tenant.as_str().to_owned(),
            state: RequestState::Running,
            requested_by: requested_by.to_owned(),
            requested_at: now,
            finished_at: None,
            csv,
            contacts: 0,
            messages: 0,
            expires_at: now + EXPORT_SECS,
            failure: None,
            download_url: None,
            csv_url: None,
            download_expires_at: None,
        };
        self.store
            .put_new_export(&export, &footprint.contacts)
            .await?;
        let job = crate::erasure::ErasureJob::PersonExport(ExportJob {
            tenant: tenant.as_str().to_owned(),
            export: export.id.clone(),
            contacts: footprint.contacts,
            csv,
        });
        if let Err(e) = self.queue.send(&[job]).await {
            self.store
                .fail_export(
                    tenant,
                    &export.id,
                    "the export job could not be queued",
                    now,
                )
                .await?;
            return Err(e.into());
        }
        tracing::info!(tenant = %tenant, export = %export.id, "export of a person queued");
        Ok(export)
    }

    /// A page of the tenant's exports, newest first, without links.
    pub async fn list(
        &self,
        tenant: &TenantId,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<(Vec<PersonExport>, Option<Cursor>), ExportError> {
        Ok(self.store.exports_page(tenant, limit, after, now).await?)
    }

    /// The export, with download links valid from `now` when it is done.
    pub async fn status(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> Result<Option<PersonExport>, ExportError> {
        let Some((mut export, objects)) = self.store.export(tenant, id, now).await? else {
            return Ok(None);
        };
        if export.state == RequestState::Done {
            // Never past the files' own end.
            let left = (export.expires_at - now).clamp(1, DOWNLOAD_LINK_SECS as i64);
            let mut links = Vec::new();
            for key in &objects {
                links.push(self.link(key, Duration::from_secs(left as u64)).await?);
            }
            let mut links = links.into_iter();
            export.download_url = links.next();
            export.csv_url = links.next();
            export.download_expires_at = Some(now + left);
        }
        Ok(Some(export))
    }

    async fn link(&self, key: &str, valid: Duration) -> Result<String, ExportError> {
        let config =
            PresigningConfig::expires_in(valid).map_err(|e| ExportError::s3("presign", e))?;
        let request = self
            .bucket
            .s3
            .get_object()
            .bucket(&self.bucket.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| ExportError::s3("presign GetObject", e))?;
        Ok(request.uri().to_owned())
    }

    /// Marks the job's export failed: SQS gave up on it.
    pub async fn give_up(&self, job: &ExportJob, reason: &str) -> Result<(), ExportError> {
        let tenant = parse_tenant(&job.tenant)?;
        self.store
            .fail_export(&tenant, &job.export, reason, now_seconds())
            .await?;
        Ok(())
    }

    /// Writes the export's files and marks it done.
    pub async fn run(&self, job: &ExportJob) -> Result<ExportOutcome, ExportError> {
        let tenant = parse_tenant(&job.tenant)?;
        let now = now_seconds();
        let running = self
            .store
            .export(&tenant, &job.export, now)
            .await?
            .is_some_and(|(e, _)| e.state == RequestState::Running);
        if !running {
            return Ok(ExportOutcome::Stale);
        }
        let folder = format!("exports/{}/{}", tenant.as_str(), job.export);
        let mut objects = vec![format!("{folder}/person.json")];
        let s3 = &self.bucket.s3;
        let bucket = &self.bucket.bucket;
        let json = Upload::start(s3, bucket, &objects[0], "application/json").await?;
        let csv = if job.csv {
            objects.push(format!("{folder}/messages.csv"));
            Some(Upload::start(s3, bucket, &objects[1], "text/csv").await?)
        } else {
            None
        };
        let head = Head {
            export_id: &job.export,
            tenant_id: tenant.as_str(),
            exported_at: now,
        };
        let mut document = Document::start(json, csv, &head).await?;
        if let Err(e) = self.write(&tenant, job, &mut document, now).await {
            document.abort().await;
            return Err(e);
        }
        let (contacts, messages) = (document.contacts, document.messages);
        let bytes = document.finish().await?;
        let finished = FinishedExport {
            at: now_seconds(),
            contacts,
            messages,
            objects: &objects,
        };
        if !self
            .store
            .finish_export(&tenant, &job.export, &finished)
            .await?
        {
            // Its record went meanwhile (its person was erased) or was settled: the files
            // written now are no one's to fetch, and go at once.
            self.delete_folder(&folder).await?;
            return Ok(ExportOutcome::Stale);
        }
        tracing::info!(tenant = %tenant, export = %job.export, contacts, messages, bytes, "export of a person done");
        Ok(ExportOutcome::Done {
            contacts,
            messages,
            bytes,
        })
    }

    /// The contact's whole consent ledger, newest first (a few lines for most people).
    async fn consent_ledger(
        &self,
        tenant: &TenantId,
        contact: &str,
        now: i64,
    ) -> Result<Vec<ConsentEntryView>, ExportError> {
        let mut entries = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let page = self
                .store
                .consent_entries(tenant, contact, MESSAGE_PAGE, after.as_ref(), now)
                .await?;
            entries.extend(page.entries.into_iter().map(ConsentEntryView::from));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(entries),
            }
        }
    }

    async fn write(
        &self,
        tenant: &TenantId,
        job: &ExportJob,
        document: &mut Document,
        now: i64,
    ) -> Result<(), ExportError> {
        let conversations = Conversations::new(self.store.clone());
        for contact in &job.contacts {
            let Some(profile) = self.store.get_contact(tenant, contact, now).await? else {
                continue;
            };
            let consent = self.consent_ledger(tenant, contact, now).await?;
            document
                .contact(&ContactView::from(profile), &consent)
                .await?;
            let mut after: Option<Cursor> = None;
            loop {
                let Some(page) = conversations
                    .messages(tenant, contact, after.as_ref(), MESSAGE_PAGE, now)
                    .await?
                else {
                    break;
                };
                for (id, message) in page.messages {
                    document
                        .message(&MessageView::new(&id, message, &page.deliveries))
                        .await?;
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let mut after: Option<Cursor> = None;
            loop {
                let (records, next) = self
                    .store
                    .deliveries_about(
                        tenant,
                        std::slice::from_ref(contact),
                        after.as_ref(),
                        LOG_PAGE,
                        Some(now),
                    )
                    .await?;
                for record in records {
                    let delivery = ExportedDelivery {
                        event_id: record.event_id,
                        event_type: record.event_type,
                        endpoint_id: record.endpoint_id,
                        state: record
                            .state
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                        attempts: record.attempts.max(0) as u32,
                        created_at: record.event_created_at,
                    };
                    document.delivery(&delivery).await?;
                }
                match next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            document.end_contact().await?;
        }
        Ok(())
    }

    /// Deletes every export file of the tenant (its records go with its other items):
    /// the end of a tenant's deletion. Answers how many files there were.
    pub async fn delete_tenant_files(&self, tenant: &TenantId) -> Result<u64, ExportError> {
        self.delete_folder(&format!("exports/{}", tenant.as_str()))
            .await
    }

    /// Deletes the exports about `contacts`: part of erasing the person. The record
    /// first, so that an export still running finds it gone when it ends and deletes what
    /// it wrote; then its uploads under way, aborted; then every object under its folder
    /// (not only those the record names: a run cut short leaves others). Answers how many.
    pub async fn delete_about(
        &self,
        tenant: &TenantId,
        contacts: &[String],
    ) -> Result<u64, ExportError> {
        let exports = self.store.exports_about(tenant, contacts).await?;
        for export in &exports {
            self.store.delete_export(tenant, &export.id).await?;
            let folder = format!("exports/{}/{}", tenant.as_str(), export.id);
            self.abort_uploads(&folder).await?;
            self.delete_folder(&folder).await?;
        }
        Ok(exports.len() as u64)
    }

    /// Aborts every multipart upload under way under `folder` (their parts go with them).
    async fn abort_uploads(&self, folder: &str) -> Result<(), ExportError> {
        let s3 = &self.bucket.s3;
        let bucket = &self.bucket.bucket;
        let listed = s3
            .list_multipart_uploads()
            .bucket(bucket)
            .prefix(format!("{folder}/"))
            .send()
            .await
            .map_err(|e| ExportError::s3("ListMultipartUploads", e))?;
        for upload in listed.uploads() {
            let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else {
                continue;
            };
            s3.abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(id)
                .send()
                .await
                .map_err(|e| ExportError::s3("AbortMultipartUpload", e))?;
        }
        Ok(())
    }

    /// Deletes every object under `folder`.
    async fn delete_folder(&self, folder: &str) -> Result<u64, ExportError> {
        let s3 = &self.bucket.s3;
        let mut deleted = 0;
        let mut pages = s3
            .list_objects_v2()
            .bucket(&self.bucket.bucket)
            .prefix(format!("{folder}/"))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ExportError::s3("ListObjectsV2", e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                s3.delete_object()
                    .bucket(&self.bucket.bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| ExportError::s3("DeleteObject", e))?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

fn parse_tenant(raw: &str) -> Result<TenantId, ExportError> {
    TenantId::parse(raw).map_err(|_| ExportError::BadTenant(raw.to_owned()))
}
