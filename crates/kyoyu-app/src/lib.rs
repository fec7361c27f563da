//! The application layer of kyoyu: one typed function per operation. Each holds its
//! transaction, asks the policy, validates, writes and audits, and answers a typed view for
//! the caller. The JSON API, TAXII and the web UI are adapters over it and call no adapter's
//! handlers.

pub mod admin;
pub mod advisories;
pub mod auth;
pub mod caller;
pub mod council;
pub mod directory;
pub mod error;
pub mod exchange;
pub mod files;
pub mod login;
pub mod notifications;
pub mod notify;
pub mod partner;
pub mod reads;
pub mod reports;
pub mod seed;
pub mod statistics;
pub mod stix;
pub mod views;
pub mod world;

pub use caller::Caller;
pub use error::{AppError, AppResult, Cause};

use kyoyu_store::{Store, Tx};
use std::sync::Arc;
use world::{World, WorldCache};

/// What every operation runs against: the store and the process's reference-data cache.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// Where mail links point and how mail leaves.
    pub mail: notify::MailConfig,
    /// Password hashing and the HTTP Basic credential cache.
    pub logins: Arc<login::Logins>,
    pub files: files::FilesConfig,
    world: Arc<WorldCache>,
    recent: Arc<statistics::RecentCache>,
}

impl App {
    pub fn new(store: Store, mail: notify::MailConfig) -> App {
        App::with_files(store, mail, files::FilesConfig::default())
    }

    pub fn with_files(store: Store, mail: notify::MailConfig, files: files::FilesConfig) -> App {
        caller::claim_authority();
        App { store, mail, logins: Default::default(), files, world: Default::default(), recent: Default::default() }
    }

    /// The reference data as of a write's transaction.
    pub async fn world(&self, tx: &mut Tx) -> AppResult<Arc<World>> {
        World::current(&self.world, tx).await
    }

    /// The reference data for a read.
    pub async fn world_for_read(&self) -> AppResult<Arc<World>> {
        World::for_read(&self.world, &self.store).await
    }
}
