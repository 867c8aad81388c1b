use super::*;
use crate::jobs::JobFields;

const YAML: &str = "\
# The jobs of this cluster.
- name: hello
  schedule: \"*/2 * * * * *\"
  plugin: hello
  input: {name: world}
- name: nightly
  schedule: 0 3 * * *
  timezone: Europe/Berlin
  plugin: report
  timeout: 5m
  retry: {attempts: 3, backoff: 10s}
";

#[test]
fn yaml_and_json_give_the_same_jobs() {
    let yaml = parse(YAML, "jobs.yaml").unwrap().0;
    let json = parse(
        r#"[{"name": "hello", "schedule": "*/2 * * * * *", "plugin": "hello",
             "input": {"name": "world"}},
            {"name": "nightly", "schedule": "0 3 * * *", "timezone": "Europe/Berlin",
             "plugin": "report", "timeout": "5m",
             "retry": {"attempts": 3, "backoff": "10s"}}]"#,
        "jobs.json",
    )
    .unwrap()
    .0;
    assert_eq!(yaml.len(), 2);
    let as_json = |f: &Vec<JobFields>| serde_json::to_value(f).unwrap();
    assert_eq!(as_json(&yaml), as_json(&json));
    // JSON in a file not named .json is read as YAML, to the same jobs.
    let json_text = serde_json::to_string(&as_json(&json)).unwrap();
    assert_eq!(
        as_json(&parse(&json_text, "jobs").unwrap().0),
        as_json(&json)
    );
    // An empty file, or an empty list, is no job.
    assert!(parse("", "jobs.yaml").unwrap().0.is_empty());
    assert!(parse("[]\n", "jobs.yaml").unwrap().1.is_empty());
}

#[test]
fn a_syntax_error_names_the_file_the_line_and_the_entry() {
    let text = "- name: a\n  schedule: '@every 1s'\n  plugin: hello\n- name: b\n  shedule: x\n";
    let e = parse(text, "jobs.yaml").unwrap_err();
    let JobsFileError::Syntax {
        line,
        column,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*line, *column), (Some(5), Some(3)));
    assert!(
        message.starts_with("entry #2: unknown field `shedule`"),
        "{message}"
    );
    assert!(
        e.to_string()
            .starts_with("jobs file jobs.yaml line 5 column 3: entry #2: unknown field"),
        "{e}"
    );

    let e = parse("- name: a\n  input: [1, 2\n", "jobs.yaml").unwrap_err();
    assert!(
        matches!(e, JobsFileError::Syntax { line: Some(_), .. }),
        "{e:?}"
    );
    let e = parse("- name: a\n  timeout: [1]\n", "jobs.yaml").unwrap_err();
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("entry #1 field timeout"),
        "{e}"
    );
    let e = parse("{\"name\": \"a\"}", "jobs.json").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("jobs file jobs.json line 1: invalid type"),
        "{e}"
    );
    let e = parse("[{\"name\": \"a\",}]", "jobs.json").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("jobs file jobs.json line 1 column 15: trailing comma"),
        "{e}"
    );
    let e = parse("name: a\n", "jobs.yaml").unwrap_err();
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}

#[test]
fn an_invalid_entry_is_named_by_position_name_and_field() {
    let text = "- name: a\n  schedule: '@every 1s'\n  plugin: hello\n\
                - name: b\n  schedule: every day\n  plugin: hello\n";
    let e = parse(text, "jobs.yaml").unwrap_err();
    let JobsFileError::Entry {
        line,
        index,
        name,
        field,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (*line, *index, name.as_deref(), field.as_str()),
        (Some(4), 2, Some("b"), "schedule")
    );
    assert!(
        e.to_string()
            .starts_with("jobs file jobs.yaml line 4: entry #2 (b) field schedule: "),
        "{e}"
    );
    // Indented items, and a list that is not one item per line: the line where known.
    let indented = "  - name: a\n    schedule: nope\n    plugin: hello\n";
    assert!(matches!(
        parse(indented, "jobs.yaml").unwrap_err(),
        JobsFileError::Entry { line: Some(1), .. }
    ));
    let flow = "[{name: a, schedule: '@every 1s', plugin: h}, {name: b, plugin: h}]";
    assert!(matches!(
        parse(flow, "jobs.yaml").unwrap_err(),
        JobsFileError::Entry {
            line: None,
            index: 2,
            ..
        }
    ));
    let e = parse("- schedule: '@every 1s'\n  plugin: hello\n", "jobs.yaml").unwrap_err();
    assert!(
        e.to_string().contains("entry #1 (no name) field name"),
        "{e}"
    );
}

#[test]
fn two_entries_with_one_name_are_refused() {
    let text = "- {name: a, schedule: '@every 1s', plugin: hello}\n\
                - {name: a, schedule: '@every 2s', plugin: hello}\n";
    let e = parse(text, "jobs.yaml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "jobs file jobs.yaml line 2: entry #2 (a) field name: another entry is named \"a\""
    );
}

#[test]
fn a_file_is_read_up_to_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.yaml");
    std::fs::write(&path, YAML).unwrap();
    let (fields, jobs) = read(&path).unwrap();
    assert_eq!((fields.len(), jobs[1].name.as_str()), (2, "nightly"));
    let text = read_text(&path).unwrap();
    assert_eq!(text.digest.len(), "sha256:".len() + 64);
    std::fs::write(&path, format!("{YAML}\n")).unwrap();
    assert_ne!(read_text(&path).unwrap().digest, text.digest);
    let big = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    big.set_len(MAX_FILE_BYTES + 1).unwrap();
    let e = read(&dir.path().join("big.yaml")).unwrap_err();
    assert!(e.to_string().contains("bytes, the limit"), "{e}");
    let e = read(&dir.path().join("missing.yaml")).unwrap_err();
    assert!(matches!(e, JobsFileError::Unreadable { .. }), "{e:?}");
}
