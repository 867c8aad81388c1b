//! Proptest strategies for schedule expressions and zones.

use proptest::prelude::*;

/// Zones with and without DST, odd offsets, negative DST and frequent rule changes.
pub const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Tokyo",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Kolkata",
    "Europe/Dublin",
    "Africa/Casablanca",
    "America/Sao_Paulo",
    "Pacific/Apia",
];

/// One element of a field: a value, range or step within `min..=max`.
fn element(min: u32, max: u32, star_ok: bool) -> BoxedStrategy<String> {
    let value = min..=max;
    let step = 1..=(max - min);
    let mut options: Vec<BoxedStrategy<String>> = vec![
        value.clone().prop_map(|v| v.to_string()).boxed(),
        (value.clone(), value.clone())
            .prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b)))
            .boxed(),
        (value.clone(), value.clone(), step.clone())
            .prop_map(|(a, b, n)| format!("{}-{}/{n}", a.min(b), a.max(b)))
            .boxed(),
        (value.clone(), step.clone())
            .prop_map(|(a, n)| format!("{a}/{n}"))
            .boxed(),
    ];
    if star_ok {
        options.push(step.prop_map(|n| format!("*/{n}")).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

/// A valid field: `*`, or a list of 1-3 elements (a `*/n` step only first).
pub fn field(min: u32, max: u32) -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just("*".to_owned()),
        5 => (element(min, max, true), proptest::collection::vec(element(min, max, false), 0..3))
            .prop_map(|(first, rest)| {
                std::iter::once(first).chain(rest).collect::<Vec<_>>().join(",")
            }),
    ]
    .boxed()
}

/// A syntactically valid 5- or 6-field expression (it may still never fire).
pub fn cron_expression() -> BoxedStrategy<String> {
    (
        proptest::option::of(field(0, 59)),
        field(0, 59),
        field(0, 23),
        field(1, 31),
        field(1, 12),
        field(0, 7),
    )
        .prop_map(|(s, m, h, dom, mon, dow)| {
            let five = format!("{m} {h} {dom} {mon} {dow}");
            match s {
                Some(s) => format!("{s} {five}"),
                None => five,
            }
        })
        .boxed()
}

/// Any accepted expression, macros and `@every` included.
pub fn any_expression() -> BoxedStrategy<String> {
    prop_oneof![
        8 => cron_expression(),
        1 => prop_oneof![
            Just("@yearly".to_owned()),
            Just("@monthly".to_owned()),
            Just("@weekly".to_owned()),
            Just("@daily".to_owned()),
            Just("@hourly".to_owned()),
        ],
        1 => (1u64..200_000).prop_map(|s| format!("@every {s}s")),
    ]
    .boxed()
}

/// A text that looks like a cron expression but may be anything.
pub fn near_valid() -> BoxedStrategy<String> {
    let token = "[0-9*/,A-Za-z?#LW-]{0,9}";
    proptest::collection::vec(token, 0..8)
        .prop_map(|fields| fields.join(" "))
        .boxed()
}

/// A zone from [`ZONES`].
pub fn zone_name() -> BoxedStrategy<&'static str> {
    proptest::sample::select(ZONES).boxed()
}
