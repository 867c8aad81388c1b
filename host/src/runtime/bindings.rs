//! Host-side bindings for the `wasmcron:plugin` WIT package (`wit/plugin.wit`).

wasmtime::component::bindgen!({
    world: "job",
    path: "../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::wasmcron::plugin::host::Level;
