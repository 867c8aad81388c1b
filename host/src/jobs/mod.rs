//! Jobs, the domain: a job as users write it ([`JobFields`], validated into the store's
//! [`NewJob`](crate::store::NewJob) / [`JobPatch`](crate::store::JobPatch)), as the scheduler
//! runs it ([`JobSpec`], parsed once), and the operations every entry point shares — the API,
//! the jobs file and, through the API, the CLI and the dashboard ([`Jobs`]: create, edit,
//! pause, resume, delete, trigger; each stored, announced to the replicas and published as an
//! event), and the declarative application of a list of jobs (a jobs file, `job apply`:
//! [`Jobs::plan`], [`Jobs::apply`]).

mod apply;
mod audit;
mod error;
mod export;
mod failure_fields;
mod fields;
mod secret_fields;
mod service;
mod signal;
mod spec;

pub use self::apply::{
    Change, ChangeKind, EntryError, FieldChange, Foreign, Plan, PlanError, check_all_entries,
    check_entries,
};
pub(crate) use self::audit::record as record_audit;
pub use error::{FieldError, JobError};
pub use failure_fields::MAX_PAUSE_AFTER_FAILURES;
pub use fields::{INPUT_LIMIT_BYTES, JobFields, check_name};
pub use secret_fields::{MAX_SECRETS, check_secrets};
pub use service::Jobs;
pub use signal::{ChangeSignal, Changes, Origin};
pub use spec::JobSpec;
