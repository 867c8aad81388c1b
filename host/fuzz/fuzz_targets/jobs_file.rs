//! The `--jobs-file` reader: any text, read as YAML and as JSON, is a list of valid jobs or a
//! refusal that names the file and says where — never a panic. What it accepts holds: every
//! entry makes a new job, no two entries share a name, and the jobs read back the same once
//! written out as JSON.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use wasmcron::jobs_file::{JobsFileError, parse};

fn check(text: &str, file: &str) {
    match parse(text, file) {
        Ok((entries, jobs)) => {
            assert_eq!(jobs.len(), entries.len(), "every entry makes a job");
            let mut names = HashSet::new();
            for (fields, job) in entries.iter().zip(&jobs) {
                assert_eq!(
                    fields.new_job().as_ref().ok(),
                    Some(job),
                    "an accepted entry is its job"
                );
                assert!(names.insert(fields.name.clone()), "names are unique");
            }
            let json = serde_json::to_string(&entries).expect("jobs write out as JSON");
            let (again, _) = parse(&json, "again.json").expect("jobs written out read back");
            assert_eq!(again, entries);
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("jobs file {file}")),
                "{message}"
            );
            match e {
                JobsFileError::Entry { index, field, .. } => {
                    assert!(index >= 1 && !field.is_empty(), "{message}")
                }
                JobsFileError::Syntax { line, .. } => assert_ne!(line, Some(0), "{message}"),
                JobsFileError::Unreadable { .. } => panic!("text is never unreadable"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text, "jobs.yaml");
        check(text, "jobs.json");
    }
});
