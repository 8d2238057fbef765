//! A person's export (the rights of access and portability). The request finds the person's
//! contacts and records the export; its job, in the erasure function, streams one JSON
//! document (and, when asked for, a CSV of the messages) to the stack's bucket: every
//! contact as the API shows it, every message as the API shows it, and the callback
//! deliveries about them. The admin API hands out links valid for an hour at most; the
//! files and the record go after 7 days.
//!
//! A job whose invocation's time runs low pauses between two pages: its files' uploads
//! stay open, the bytes not yet sent as a part are kept in an object of their own, and a
//! new job carries where it stood, so an export of any size finishes over as many
//! invocations as it takes (a million messages is several; see docs/benchmarks.md). A job
//! that fails goes on from the last pause on SQS's next delivery.

pub mod document;
pub mod job;
pub mod upload;
mod walk;

pub use job::{ExportJob, ExportPosition, ExportProgress, Step};

use crate::store::PersonStore;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;

use crate::clock::now_seconds;
use crate::domain::erasure::RequestState;
use crate::domain::export::{DOWNLOAD_LINK_SECS, EXPORT_SECS, PersonExport, new_export_id};
use crate::domain::identity::IdentityKey;
use crate::domain::tenant::TenantId;
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;
use crate::store::person::export::FinishedExport;
use crate::store::table::cursor::Cursor;
use crate::store::{Store, StoreError};
use document::{Document, Head};
use upload::Upload;
use walk::Walked;

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

/// What one run of an export job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    Done {
        contacts: u64,
        messages: u64,
        bytes: u64,
    },
    /// Its time ran low: a job that goes on from here is queued.
    Paused { pauses: u32 },
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
        let footprint = self
            .store
            .repo::<PersonStore>()
            .person_footprint(tenant, person, now)
            .await?;
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
            .repo::<PersonStore>()
            .put_new_export(&export, &footprint.contacts, &footprint.blinded)
            .await?;
        let job = crate::erasure::job::ErasureJob::PersonExport(ExportJob {
            tenant: tenant.as_str().to_owned(),
            export: export.id.clone(),
            contacts: footprint.contacts,
            csv,
            blinded: footprint.blinded,
            progress: None,
        });
        if let Err(e) = self.queue.send(&[job]).await {
            self.store
                .repo::<PersonStore>()
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
        Ok(self
            .store
            .repo::<PersonStore>()
            .exports_page(tenant, limit, after, now)
            .await?)
    }

    /// The export, with download links valid from `now` when it is done.
    pub async fn status(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> Result<Option<PersonExport>, ExportError> {
        let Some((mut export, objects)) = self
            .store
            .repo::<PersonStore>()
            .export(tenant, id, now)
            .await?
        else {
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
            .repo::<PersonStore>()
            .fail_export(&tenant, &job.export, reason, now_seconds())
            .await?;
        Ok(())
    }

    /// Writes the export's files, from where its last pause stood, while `keep_going`
    /// says there is time; marks it done once written, or queues a job that goes on.
    pub async fn run(
        &self,
        job: &ExportJob,
        keep_going: impl Fn() -> bool,
    ) -> Result<ExportOutcome, ExportError> {
        let tenant = parse_tenant(&job.tenant)?;
        let folder = format!("exports/{}/{}", tenant.as_str(), job.export);
        let state = self
            .store
            .repo::<PersonStore>()
            .export(&tenant, &job.export, now_seconds())
            .await?
            .map(|(e, _)| e.state);
        match state {
            Some(RequestState::Running) => {}
            // Done: a late copy of a job whose files are there to fetch.
            Some(RequestState::Done) => return Ok(ExportOutcome::Stale),
            // Its person erased (its record marked, or gone), or given up: what an earlier
            // run of it wrote (uploads under way, parts kept by a pause) goes now, since a
            // pause may have written after the erasure cleared the folder.
            _ => {
                self.abort_uploads(&folder).await?;
                self.delete_folder(&folder).await?;
                return Ok(ExportOutcome::Stale);
            }
        }
        let mut objects = vec![format!("{folder}/person.json")];
        if job.csv {
            objects.push(format!("{folder}/messages.csv"));
        }
        let s3 = &self.bucket.s3;
        let bucket = &self.bucket.bucket;
        let (mut document, position, exported_at) = match &job.progress {
            Some(progress) => (
                Document::resume(s3, bucket, progress.document.clone()).await?,
                progress.position.clone(),
                progress.exported_at,
            ),
            None => {
                let now = now_seconds();
                let json = Upload::start(s3, bucket, &objects[0], "application/json").await?;
                let csv = match objects.get(1) {
                    Some(key) => Some(Upload::start(s3, bucket, key, "text/csv").await?),
                    None => None,
                };
                let head = Head {
                    export_id: &job.export,
                    tenant_id: tenant.as_str(),
                    exported_at: now,
                };
                let document = Document::start(json, csv, &head).await?;
                (document, ExportPosition::start(), now)
            }
        };
        // What has ended since the export began is not written: each run reads as of its
        // own start (the document's `exported_at` stays the first run's).
        let read_at = now_seconds().max(exported_at);
        let walked = self
            .walk(
                (&tenant, job),
                &mut document,
                position,
                read_at,
                &keep_going,
            )
            .await;
        match walked {
            // A first run gives its uploads up; one that went on from a pause leaves them
            // to SQS's next delivery, which goes on from that pause again.
            Err(e) => {
                if job.progress.is_none() {
                    document.abort().await;
                }
                return Err(e);
            }
            Ok(Walked::Paused(position)) => {
                let pauses = job.progress.as_ref().map_or(0, |p| p.pauses) + 1;
                let pending = [
                    format!("{folder}/.resume/{pauses}-person.json"),
                    format!("{folder}/.resume/{pauses}-messages.csv"),
                ];
                let state = document.pause([&pending[0], &pending[1]]).await?;
                let next = ExportJob {
                    progress: Some(Box::new(ExportProgress {
                        exported_at,
                        document: state,
                        position,
                        pauses,
                    })),
                    ..job.clone()
                };
                self.queue
                    .send(&[crate::erasure::job::ErasureJob::PersonExport(next)])
                    .await?;
                tracing::info!(tenant = %tenant, export = %job.export, pauses, "export paused; a job goes on from here");
                return Ok(ExportOutcome::Paused { pauses });
            }
            Ok(Walked::Done) => {}
        }
        let (contacts, messages) = (document.contacts, document.messages);
        let bytes = document.finish().await?;
        // What pauses kept is part of the files now.
        self.delete_folder(&format!("{folder}/.resume")).await?;
        let finished = FinishedExport {
            at: now_seconds(),
            contacts,
            messages,
            objects: &objects,
        };
        if !self
            .store
            .repo::<PersonStore>()
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

    /// Deletes every export file of the tenant (its records go with its other items):
    /// the end of a tenant's deletion. Answers how many files there were.
    pub async fn delete_tenant_files(&self, tenant: &TenantId) -> Result<u64, ExportError> {
        self.delete_folder(&format!("exports/{}", tenant.as_str()))
            .await
    }

    /// Deletes the exports about `person` (its contacts, and the blind indexes of its
    /// identifiers): part of erasing the person, in each of its
    /// passes. The record is marked erased first, so that an export still running finds
    /// it no longer running and deletes what it wrote; then its uploads under way are
    /// aborted and every object under its folder goes (not only those the record names: a
    /// run cut short or paused leaves others). The final pass (`last`) does it all again,
    /// for what a job still running wrote after the first, and then deletes the record.
    /// Answers how many exports it found that no pass had marked before.
    pub async fn delete_about(
        &self,
        tenant: &TenantId,
        person: (&[String], &[String]),
        last: bool,
    ) -> Result<u64, ExportError> {
        let exports = self
            .store
            .repo::<PersonStore>()
            .exports_about(tenant, person)
            .await?;
        let mut found = 0;
        for export in &exports {
            found += u64::from(!export.erased);
            self.store
                .repo::<PersonStore>()
                .mark_export_erased(tenant, &export.id, now_seconds())
                .await?;
            let folder = format!("exports/{}/{}", tenant.as_str(), export.id);
            self.abort_uploads(&folder).await?;
            self.delete_folder(&folder).await?;
            if last {
                self.store
                    .repo::<PersonStore>()
                    .delete_export(tenant, &export.id)
                    .await?;
            }
        }
        Ok(found)
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
