//! A job as clients write it (`POST /jobs`, `PATCH /jobs/{id}`, an entry of `--jobs-file`):
//! any JSON body is read into `JobFields` or refused, and its fields become a new job or a
//! patch, or a refusal naming the field — never a panic. A body that is an array is read as a
//! jobs file is.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmcron::jobs::JobFields;

fn check(fields: &JobFields) {
    match fields.new_job() {
        Ok(_) => {}
        Err(e) => assert!(!e.field.is_empty(), "a refusal names its field: {e:?}"),
    }
    match fields.patch() {
        Ok(_) => {}
        Err(e) => assert!(!e.field.is_empty(), "a refusal names its field: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'[') {
        if let Ok(entries) = serde_json::from_slice::<Vec<JobFields>>(data) {
            entries.iter().for_each(check);
        }
    } else if let Ok(fields) = serde_json::from_slice::<JobFields>(data) {
        check(&fields);
    }
});
