//! The one module with `unsafe`: volatile 32-bit access to a memory mapping of device registers
//! (UIO, /dev/mem, the XDMA user BAR, or a regular file standing in for one in tests).
//!
//! Every access is bounds- and alignment-checked against the mapping before the pointer is formed,
//! and is a single aligned 32-bit volatile load or store: device registers must never see a
//! compiler-merged, split or elided access.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{MmapOptions, MmapRaw};

use crate::backend::check_access;
use crate::error::{Error, Result};

/// A shared, read-write mapping of `len` bytes of a device node at `offset`.
pub struct Mapping {
    map: MmapRaw,
    path: PathBuf,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("path", &self.path)
            .field("len", &self.map.len())
            .finish()
    }
}

impl Mapping {
    /// Maps `len` bytes of `file` (opened read-write) starting at byte `offset`.
    ///
    /// A regular file shorter than `offset + len` is refused with [`Error::MapTooSmall`]: touching
    /// a page past its end would be SIGBUS, not an error.
    pub fn new(file: &File, path: &Path, offset: u64, len: u64) -> Result<Mapping> {
        let meta = file.metadata().map_err(|e| Error::io("stat", path, e))?;
        if meta.is_file() && meta.len() < offset.saturating_add(len) {
            return Err(Error::MapTooSmall {
                path: path.to_path_buf(),
                size: meta.len().saturating_sub(offset),
                needed: len,
            });
        }
        let len_usize = usize::try_from(len).map_err(|_| Error::MapTooSmall {
            path: path.to_path_buf(),
            size: usize::MAX as u64,
            needed: len,
        })?;
        let map = MmapOptions::new()
            .offset(offset)
            .len(len_usize)
            .map_raw(file)
            .map_err(|e| Error::io("mmap", path, e))?;
        // mmap returns page-aligned memory plus the sub-page part of `offset`; require that to be
        // word aligned so every register pointer below is aligned for u32.
        if map.as_mut_ptr() as usize % 4 != 0 {
            return Err(Error::Unaligned { offset });
        }
        Ok(Mapping {
            map,
            path: path.to_path_buf(),
        })
    }

    /// Bytes mapped.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    /// True if nothing is mapped (never, for a successful [`Mapping::new`] with `len > 0`).
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// The mapped node.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Volatile 32-bit load at byte `offset`.
    pub fn read32(&self, offset: u64) -> Result<u32> {
        check_access(offset, 1, self.len())?;
        // SAFETY: `check_access` proved offset % 4 == 0 and offset + 4 <= len, and the base is
        // word aligned (checked in `new`), so the pointer is aligned and inside the live mapping,
        // which `self` owns for as long as this borrow lasts. Device memory may change under us,
        // which is exactly why the load is volatile; any u32 bit pattern is valid.
        let value = unsafe {
            let p = self.map.as_mut_ptr().add(offset as usize) as *const u32;
            std::ptr::read_volatile(p)
        };
        Ok(value)
    }

    /// Volatile 32-bit store at byte `offset`.
    pub fn write32(&self, offset: u64, value: u32) -> Result<()> {
        check_access(offset, 1, self.len())?;
        // SAFETY: as in `read32`: aligned, in bounds, mapping alive and shared (MAP_SHARED, read
        // write). Volatile so the store reaches the device exactly once, in program order with
        // respect to other volatile accesses through this mapping.
        unsafe {
            let p = self.map.as_mut_ptr().add(offset as usize) as *mut u32;
            std::ptr::write_volatile(p, value);
        }
        Ok(())
    }
}

/// Calls into the Verilated harness (hw/sim/bramble_harness.cpp) loaded with libloading: the
/// other half of this crate's `unsafe`, kept here so there is one module to audit.
#[cfg(feature = "sim")]
pub mod harness {
    use std::ffi::{c_void, CString};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    use crate::error::{Error, Result};

    /// The ABI version this crate expects from `bramble_sim_abi_version` (2: `bramble_sim_new`
    /// takes the memory directory; 3: stream ports and the AXI DMA model).
    pub const ABI_VERSION: u32 = 3;

    type Handle = *mut c_void;

    #[derive(Clone, Copy)]
    struct Fns {
        free: unsafe extern "C" fn(Handle),
        reset: unsafe extern "C" fn(Handle, u32),
        step: unsafe extern "C" fn(Handle, u64),
        step_until_irq: unsafe extern "C" fn(Handle, u64) -> u64,
        irq: unsafe extern "C" fn(Handle) -> i32,
        cycles: unsafe extern "C" fn(Handle) -> u64,
        last_resp: unsafe extern "C" fn(Handle) -> u32,
        finished: unsafe extern "C" fn(Handle) -> i32,
        write32: unsafe extern "C" fn(Handle, u32, u32, u64) -> i32,
        read32: unsafe extern "C" fn(Handle, u32, *mut u32, u64) -> i32,
        dma_config: unsafe extern "C" fn(Handle, u64, u64, u32, u32, u64) -> i32,
        dma_buf_size: unsafe extern "C" fn(Handle) -> u64,
        dma_buf_base: unsafe extern "C" fn(Handle) -> u64,
        dma_buf_write: unsafe extern "C" fn(Handle, u64, *const u8, u64) -> i32,
        dma_buf_read: unsafe extern "C" fn(Handle, u64, *mut u8, u64) -> i32,
        dma_read32: unsafe extern "C" fn(Handle, u32) -> u32,
        dma_write32: unsafe extern "C" fn(Handle, u32, u32),
        dma_irq: unsafe extern "C" fn(Handle) -> i32,
        step_until_dma_irq: unsafe extern "C" fn(Handle, u32, u64) -> u64,
        dma_moved: unsafe extern "C" fn(Handle, i32) -> u64,
        beat_bytes: unsafe extern "C" fn() -> u32,
    }

    /// One simulated model instance and the library it came from.
    pub struct Harness {
        fns: Fns,
        handle: Handle,
        path: PathBuf,
        // Dropped after `handle` is freed (see Drop): the functions live in this library.
        _lib: libloading::Library,
    }

    // SAFETY: the model (with its own VerilatedContext) is only ever touched through `&mut self`
    // or in Drop, so it is never used from two threads at once; Verilator models are not bound to
    // the thread that created them when built without --threads.
    unsafe impl Send for Harness {}

    /// Outcome of one bus access, as the harness reports it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Access {
        Ok,
        /// The handshake did not complete within the cycle budget.
        Stalled,
        /// SLVERR/DECERR; the response code.
        ErrorResponse(u32),
    }

    /// Copies the function pointer `name` out of `lib`.
    fn symbol<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, libloading::Error> {
        let mut z = name.as_bytes().to_vec();
        z.push(0);
        // SAFETY: every caller names a symbol whose type T is the one declared in
        // bramble_harness.cpp for this ABI version (checked before any other call); the copied
        // pointer stays valid while `lib` is loaded, which `Harness` guarantees by owning it.
        unsafe { lib.get::<T>(&z).map(|s| *s) }
    }

    impl Harness {
        /// Loads the library at `path` and creates a model whose memory images are read from the
        /// directory `mem_dir` (passed to the model as `+bramble_mem_dir=`; give an absolute path,
        /// the working directory is never changed), with an FST trace at `trace` if given (the
        /// library must be the traced variant). The model's initial blocks run here.
        pub fn load(path: &Path, mem_dir: &Path, trace: Option<&Path>) -> Result<Harness> {
            let fail = |detail: String| Error::SimLoad {
                path: path.to_path_buf(),
                detail,
            };
            // SAFETY: loading runs the library's static constructors; the library is one this
            // crate built from the Verilator runtime and our harness, whose constructors only
            // initialise Verilator's own globals.
            let lib = unsafe { libloading::Library::new(path) }.map_err(|e| fail(e.to_string()))?;
            macro_rules! sym {
                ($name:literal) => {
                    symbol(&lib, $name)
                        .map_err(|e| fail(format!("missing symbol {}: {e}", $name)))?
                };
            }
            let abi: unsafe extern "C" fn() -> u32 = sym!("bramble_sim_abi_version");
            let traced: unsafe extern "C" fn() -> i32 = sym!("bramble_sim_traced");
            let new: unsafe extern "C" fn(
                *const std::ffi::c_char,
                *const std::ffi::c_char,
            ) -> Handle = sym!("bramble_sim_new");
            // SAFETY: no arguments, no state.
            let v = unsafe { abi() };
            if v != ABI_VERSION {
                return Err(fail(format!(
                    "harness ABI {v}, this host expects {ABI_VERSION}"
                )));
            }
            let fns = Fns {
                free: sym!("bramble_sim_free"),
                reset: sym!("bramble_sim_reset"),
                step: sym!("bramble_sim_step"),
                step_until_irq: sym!("bramble_sim_step_until_irq"),
                irq: sym!("bramble_sim_irq"),
                cycles: sym!("bramble_sim_cycles"),
                last_resp: sym!("bramble_sim_last_resp"),
                finished: sym!("bramble_sim_finished"),
                write32: sym!("bramble_sim_write32"),
                read32: sym!("bramble_sim_read32"),
                dma_config: sym!("bramble_sim_dma_config"),
                dma_buf_size: sym!("bramble_sim_dma_buf_size"),
                dma_buf_base: sym!("bramble_sim_dma_buf_base"),
                dma_buf_write: sym!("bramble_sim_dma_buf_write"),
                dma_buf_read: sym!("bramble_sim_dma_buf_read"),
                dma_read32: sym!("bramble_sim_dma_read32"),
                dma_write32: sym!("bramble_sim_dma_write32"),
                dma_irq: sym!("bramble_sim_dma_irq"),
                step_until_dma_irq: sym!("bramble_sim_step_until_dma_irq"),
                dma_moved: sym!("bramble_sim_dma_moved"),
                beat_bytes: sym!("bramble_sim_beat_bytes"),
            };
            let trace_c = match trace {
                Some(t) => {
                    // SAFETY: no arguments, no state.
                    if unsafe { traced() } == 0 {
                        return Err(fail(
                            "a trace was requested but this library was built without --trace-fst"
                                .into(),
                        ));
                    }
                    Some(CString::new(t.as_os_str().as_bytes()).map_err(|_| {
                        fail(format!("trace path {} contains a NUL byte", t.display()))
                    })?)
                }
                None => None,
            };
            let mem_dir_c = CString::new(mem_dir.as_os_str().as_bytes()).map_err(|_| {
                fail(format!(
                    "memory directory {} contains a NUL byte",
                    mem_dir.display()
                ))
            })?;
            let ptr = trace_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
            // SAFETY: `mem_dir_c` is a NUL-terminated string and `ptr` is NULL or one, both
            // outliving the call; the harness copies what it needs.
            let handle = unsafe { new(mem_dir_c.as_ptr(), ptr) };
            if handle.is_null() {
                return Err(fail(match trace {
                    Some(t) => format!("the model could not open the trace file {}", t.display()),
                    None => "bramble_sim_new returned NULL".into(),
                }));
            }
            Ok(Harness {
                fns,
                handle,
                path: path.to_path_buf(),
                _lib: lib,
            })
        }

        /// The loaded library.
        pub fn path(&self) -> &Path {
            &self.path
        }

        /// Holds reset for `cycles` cycles.
        pub fn reset(&mut self, cycles: u32) {
            // SAFETY (this and every call below): `handle` is the live model created in `load`
            // and freed only in Drop; `&mut self` makes the call exclusive.
            unsafe { (self.fns.reset)(self.handle, cycles) }
        }

        /// Advances the clock `n` cycles.
        pub fn step(&mut self, n: u64) {
            // SAFETY: see `reset`.
            unsafe { (self.fns.step)(self.handle, n) }
        }

        /// Steps until irq_o or `max` cycles; returns the cycles stepped.
        pub fn step_until_irq(&mut self, max: u64) -> u64 {
            // SAFETY: see `reset`.
            unsafe { (self.fns.step_until_irq)(self.handle, max) }
        }

        /// irq_o now.
        pub fn irq(&mut self) -> bool {
            // SAFETY: see `reset`.
            unsafe { (self.fns.irq)(self.handle) != 0 }
        }

        /// Cycles simulated since the model was created.
        pub fn cycles(&self) -> u64 {
            // SAFETY: see `reset`; reading the counter does not change the model.
            unsafe { (self.fns.cycles)(self.handle) }
        }

        /// True once the design executed `$finish`.
        pub fn finished(&self) -> bool {
            // SAFETY: see `reset`; reading the flag does not change the model.
            unsafe { (self.fns.finished)(self.handle) != 0 }
        }

        fn access(&mut self, code: i32) -> Access {
            match code {
                0 => Access::Ok,
                1 => Access::Stalled,
                // SAFETY: see `reset`.
                _ => Access::ErrorResponse(unsafe { (self.fns.last_resp)(self.handle) }),
            }
        }

        /// One AXI4-Lite write, at most `max_cycles` cycles.
        pub fn write32(&mut self, addr: u32, data: u32, max_cycles: u64) -> Access {
            // SAFETY: see `reset`.
            let code = unsafe { (self.fns.write32)(self.handle, addr, data, max_cycles) };
            self.access(code)
        }

        /// One AXI4-Lite read, at most `max_cycles` cycles.
        pub fn read32(&mut self, addr: u32, max_cycles: u64) -> (Access, u32) {
            let mut value = 0u32;
            // SAFETY: see `reset`; `value` is a valid u32 the harness writes on success.
            let code = unsafe { (self.fns.read32)(self.handle, addr, &mut value, max_cycles) };
            (self.access(code), value)
        }
    }

    /// The harness's DMA model (hw/sim/bramble_harness.cpp, ABI 3).
    impl Harness {
        /// Gives the DMA model a buffer of `size` bytes at bus address `base`, with MM2S
        /// presenting a beat in `valid_pct` percent of clocks and S2MM ready in `ready_pct`
        /// percent, choices seeded by `seed`; resets the DMA. False if the harness refused (a
        /// zero size or base, a range that wraps).
        pub fn dma_config(
            &mut self,
            base: u64,
            size: u64,
            valid_pct: u32,
            ready_pct: u32,
            seed: u64,
        ) -> bool {
            // SAFETY: see `reset`.
            unsafe {
                (self.fns.dma_config)(self.handle, base, size, valid_pct, ready_pct, seed) == 0
            }
        }

        /// The DMA buffer's size and bus address.
        pub fn dma_buffer(&self) -> (u64, u64) {
            // SAFETY: see `reset`; reading does not change the model.
            unsafe {
                (
                    (self.fns.dma_buf_size)(self.handle),
                    (self.fns.dma_buf_base)(self.handle),
                )
            }
        }

        /// Copies `data` into the DMA buffer at `offset`; false if out of range (nothing copied).
        pub fn dma_buf_write(&mut self, offset: u64, data: &[u8]) -> bool {
            // SAFETY: see `reset`; `data` is valid for `data.len()` bytes and only read; the
            // harness checks the range against its buffer before copying.
            unsafe {
                (self.fns.dma_buf_write)(self.handle, offset, data.as_ptr(), data.len() as u64) == 0
            }
        }

        /// Copies from the DMA buffer at `offset` into `out`; false if out of range.
        pub fn dma_buf_read(&mut self, offset: u64, out: &mut [u8]) -> bool {
            // SAFETY: see `reset`; `out` is valid for writes of `out.len()` bytes and not aliased
            // (a unique borrow); the harness checks the range before copying.
            unsafe {
                (self.fns.dma_buf_read)(self.handle, offset, out.as_mut_ptr(), out.len() as u64)
                    == 0
            }
        }

        /// A DMA register read (PG021 byte offset); costs a few clocks.
        pub fn dma_read32(&mut self, offset: u32) -> u32 {
            // SAFETY: see `reset`.
            unsafe { (self.fns.dma_read32)(self.handle, offset) }
        }

        /// A DMA register write (PG021 byte offset); costs a few clocks.
        pub fn dma_write32(&mut self, offset: u32, value: u32) {
            // SAFETY: see `reset`.
            unsafe { (self.fns.dma_write32)(self.handle, offset, value) }
        }

        /// The DMA's interrupt lines: bit 0 MM2S, bit 1 S2MM.
        pub fn dma_irq(&mut self) -> u32 {
            // SAFETY: see `reset`.
            unsafe { (self.fns.dma_irq)(self.handle) as u32 }
        }

        /// Steps until the DMA lines in `mask` are all high or an error interrupt, at most
        /// `max` cycles; returns the cycles stepped.
        pub fn step_until_dma_irq(&mut self, mask: u32, max: u64) -> u64 {
            // SAFETY: see `reset`.
            unsafe { (self.fns.step_until_dma_irq)(self.handle, mask, max) }
        }

        /// Bytes moved by MM2S (`s2mm` false) or S2MM since the DMA was configured.
        pub fn dma_moved(&self, s2mm: bool) -> u64 {
            // SAFETY: see `reset`; reading does not change the model.
            unsafe { (self.fns.dma_moved)(self.handle, s2mm as i32) }
        }

        /// TDATA bytes of the design's streams (4 or 8).
        pub fn beat_bytes(&self) -> u32 {
            // SAFETY: no arguments, no state.
            unsafe { (self.fns.beat_bytes)() }
        }
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            // SAFETY: `handle` is live and freed exactly once, before `_lib` unloads.
            unsafe { (self.fns.free)(self.handle) }
        }
    }
}
