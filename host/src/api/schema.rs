//! Schemas of the types the API shows but other modules own: overlap and misfire policies,
//! run statuses and reasons, token roles, event kinds, and the job fields clients write.
//!
//! An enum's values are the names its own `Deserialize` reads (asked of serde, see
//! [`serde_names`]), so a new variant appears in the document with no edit here; the job fields
//! are described here, and a test checks that they are exactly the fields serde reads.

use std::borrow::Cow;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::events::Event;
use crate::jobs::JobFields;
use crate::schedule::{MisfirePolicy, OverlapPolicy};
use crate::settings::Role;
use crate::store::{AuditAction, PausedReason, RunReason, RunStatus};

/// The names serde reads for `T`: an enum's variants, or a struct's fields, as spelled in JSON.
pub fn serde_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    // The derived `Deserialize` hands the names to the deserializer before reading anything;
    // this one notes them and stops.
    let _ = T::deserialize(NameCatcher(&mut names));
    names
}

struct NameCatcher<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for NameCatcher<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not an enum or a struct"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = variants;
        Err(de::Error::custom("names noted"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("names noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// A string schema of the given values.
fn one_of_names(description: &str, names: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.iter().copied()))
        .description(Some(description))
        .into()
}

/// A reference to the schema of `T`.
fn reference<T: ToSchema>() -> RefOr<Schema> {
    Ref::from_schema_name(T::name()).into()
}

/// `PartialSchema` and `ToSchema` for enums whose values serde names.
macro_rules! enum_schemas {
    ($($ty:ty: $description:literal;)*) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                one_of_names($description, serde_names::<$ty>())
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($ty))
            }
        }
    )*};
}

enum_schemas! {
    OverlapPolicy: "What to do when a tick comes due while a run of the job is in flight: \
        skip it, allow it to run beside, or queue it (one at most) until the run ends.";
    MisfirePolicy: "What to do with ticks that came due while no replica ran the job: \
        skip them all, run the latest (run_once) or run all of them within the catch-up window.";
    RunStatus: "Outcome of a run or of a recorded tick.";
    RunReason: "Why a tick was skipped or missed, or a run failed without finishing.";
    PausedReason: "Why the host paused a job: failures (pause_after_failures consecutive \
        ticks failed).";
    Role: "What a token may do: admin (everything) or read (every read, no change, no token list).";
    AuditAction: "What a change recorded in the audit log was.";
}

/// The kind of an event: its SSE event name.
#[derive(Debug)]
pub struct EventKind;

impl PartialSchema for EventKind {
    fn schema() -> RefOr<Schema> {
        one_of_names("The kind of an event (its SSE event name).", &Event::KINDS)
    }
}

impl ToSchema for EventKind {}

/// The fields of a new job: `name`, `schedule` and `plugin` are required.
#[derive(Debug)]
pub struct JobCreate;

impl PartialSchema for JobCreate {
    fn schema() -> RefOr<Schema> {
        job_fields(
            "The fields of a new job: name, schedule and plugin are required, the others \
             take their defaults. Unknown fields are refused.",
            &["name", "schedule", "plugin"],
        )
    }
}

impl ToSchema for JobCreate {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        JobFields::schemas(schemas);
    }
}

/// An edit of a job: only the fields sent change.
impl PartialSchema for JobFields {
    fn schema() -> RefOr<Schema> {
        job_fields(
            "An edit of a job: the fields sent change, the others stay. Unknown fields are \
             refused.",
            &[],
        )
    }
}

impl ToSchema for JobFields {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("JobPatch")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((OverlapPolicy::name().into(), OverlapPolicy::schema()));
        schemas.push((MisfirePolicy::name().into(), MisfirePolicy::schema()));
    }
}

/// Names of jobs and plugins.
const NAME_PATTERN: &str = "^[A-Za-z0-9._-]{1,128}$";

/// What null means for a job field.
const NULL: &str = " (null: as if left out)";

fn job_fields(description: &str, required: &[&str]) -> RefOr<Schema> {
    // A field that may be left out may also be null, which means the same.
    let of = |name: &str, own: Type| -> SchemaType {
        if required.contains(&name) {
            own.into()
        } else {
            SchemaType::from_iter([own, Type::Null])
        }
    };
    let about = |name: &str, text: &str| {
        let null = if required.contains(&name) { "" } else { NULL };
        Some(format!("{text}{null}"))
    };
    let typed = |name: &str, own: Type, text: &str| {
        ObjectBuilder::new()
            .schema_type(of(name, own))
            .description(about(name, text))
    };
    let duration = |name: &str, text: &str| {
        typed(
            name,
            Type::String,
            &format!("{text}: a duration such as 30s, 5m or 1h30m"),
        )
    };
    let policy = |name: &str, schema: RefOr<Schema>, text: &str| {
        OneOfBuilder::new()
            .item(schema)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(about(name, text))
    };
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .property(
            "name",
            typed("name", Type::String, "Unique name of the job")
                .pattern(Some(NAME_PATTERN))
                .examples(["nightly-report"]),
        )
        .property(
            "schedule",
            typed(
                "schedule",
                Type::String,
                "Cron expression (5 or 6 fields), @hourly, @daily…, or @every <duration>",
            )
            .examples(["*/5 * * * *"]),
        )
        .property(
            "timezone",
            typed(
                "timezone",
                Type::String,
                "IANA time zone the schedule is read in (default UTC)",
            )
            .examples(["Europe/Paris"]),
        )
        .property(
            "plugin",
            typed(
                "plugin",
                Type::String,
                "Name of the plugin (its file in the plugins directory, without .wasm)",
            )
            .pattern(Some(NAME_PATTERN))
            .examples(["hello"]),
        )
        .property(
            "input",
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(about(
                    "input",
                    "Any JSON, handed to every run, at most 256 KiB",
                )),
        )
        .property(
            "config",
            typed("config", Type::Object, "Strings the plugin reads by key")
                .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String))),
        )
        .property(
            "secrets",
            typed(
                "secrets",
                Type::Object,
                "Config keys whose value is the file of this name in the secrets directory \
                 (--secrets-dir), read at each run; a plain file name, never a value",
            )
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String))),
        )
        .property(
            "overlap",
            policy(
                "overlap",
                reference::<OverlapPolicy>(),
                "The overlap policy",
            ),
        )
        .property(
            "misfire",
            policy(
                "misfire",
                reference::<MisfirePolicy>(),
                "The misfire policy",
            ),
        )
        .property(
            "catchup_window",
            duration(
                "catchup_window",
                "How late a missed tick may still run (default 1h)",
            ),
        )
        .property(
            "jitter",
            duration(
                "jitter",
                "Random delay of each tick, at most 1h (default none)",
            ),
        )
        .property(
            "timeout",
            duration(
                "timeout",
                "Time limit of a run, 10ms to 24h (default: the setting runs.default_timeout)",
            ),
        )
        .property(
            "memory_limit",
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .description(about(
                    "memory_limit",
                    "Memory limit of a run: bytes, or a size such as 64MiB",
                )),
        )
        .property(
            "allowed_hosts",
            ArrayBuilder::new()
                .schema_type(of("allowed_hosts", Type::Array))
                .items(ObjectBuilder::new().schema_type(Type::String))
                .description(about(
                    "allowed_hosts",
                    "Hosts the plugin may reach over HTTP: host, *.domain or host:port",
                )),
        )
        .property(
            "paused",
            typed("paused", Type::Boolean, "Paused jobs fire no tick"),
        )
        .property(
            "retry",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .property(
                    "attempts",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .maximum(Some(crate::store::MAX_ATTEMPTS))
                        .description(Some(
                            "Attempts of a tick in all, the first included (default 1: no retry)",
                        )),
                )
                .property(
                    "backoff",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some(
                            "Delay before the second attempt, doubling after each (default 10s)",
                        )),
                )
                .property(
                    "max_backoff",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some("Longest delay, not below backoff (default 1h)")),
                )
                .description(Some(
                    "How a failed or timed-out run is tried again (null: the setting \
                     runs.default_retry)",
                )),
        )
        .property(
            "pause_after_failures",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                .minimum(Some(1))
                .maximum(Some(crate::jobs::MAX_PAUSE_AFTER_FAILURES))
                .description(Some(
                    "Pause the job after this many consecutive ticks whose last attempt \
                     failed (null: never)",
                )),
        )
        .property(
            "stale_after",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(
                    "The job is stale when it has not succeeded for this long: a duration \
                     such as 1h (null: never)",
                )),
        );
    for field in required {
        object = object.required(*field);
    }
    object.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values a schema lists.
    fn values<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        serde_json::from_value(schema["enum"].clone()).unwrap()
    }

    /// Every value serde reads, written back by serde, is itself.
    fn round_trips<T: DeserializeOwned + serde::Serialize + PartialSchema>() {
        let names = values::<T>();
        assert!(!names.is_empty());
        for name in names {
            let value: T = serde_json::from_value(serde_json::Value::String(name.clone())).unwrap();
            assert_eq!(serde_json::to_value(value).unwrap(), name.as_str());
        }
    }

    #[test]
    fn enums_list_every_value_of_the_rust_type() {
        round_trips::<OverlapPolicy>();
        round_trips::<MisfirePolicy>();
        round_trips::<RunStatus>();
        round_trips::<AuditAction>();
        round_trips::<RunReason>();
        round_trips::<PausedReason>();
        round_trips::<Role>();
        let statuses: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(values::<RunStatus>(), statuses);
        let reasons: Vec<&str> = RunReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(values::<RunReason>(), reasons);
        assert_eq!(values::<OverlapPolicy>(), ["skip", "allow", "queue"]);
        assert_eq!(values::<MisfirePolicy>(), ["skip", "run_once", "run_all"]);
        assert_eq!(values::<Role>(), ["admin", "read"]);
        assert_eq!(values::<EventKind>(), Event::KINDS);
    }

    #[test]
    fn the_job_schema_has_exactly_the_fields_serde_reads() {
        let schema = serde_json::to_value(JobFields::schema()).unwrap();
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut read = serde_names::<JobFields>().to_vec();
        documented.sort_unstable();
        read.sort_unstable();
        assert_eq!(documented, read);
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema.get("required").is_none());
        let create = serde_json::to_value(JobCreate::schema()).unwrap();
        assert_eq!(
            create["required"],
            serde_json::json!(["name", "schedule", "plugin"])
        );
    }
}
