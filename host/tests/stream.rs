//! Streaming batches (issue 10): the one AXI DMA driver (host/src/dma.rs) end to end against the
//! Verilator harness's DMA model on the stand-in device's stream ports, with random TVALID gaps
//! and TREADY stalls; a consumer that never takes anything (a stalled stream reporting how far it
//! got); a DMA decode error; batches split by a small buffer.
#![cfg(feature = "sim")]

mod common;

use std::sync::Mutex;
use std::time::Duration;

use bramble_host::dma::{self, DmaBuffer, DmaConfig, DmaRegs};
use bramble_host::sim::{self, SimBackend, SimOptions, SimStreamConfig};
use bramble_host::{Device, Error, Stream, StreamFault};
use common::*;

static BUILD: Mutex<()> = Mutex::new(());

fn opts() -> SimOptions {
    SimOptions {
        cache_dir: Some(sim_cache()),
        ..SimOptions::default()
    }
}

fn backend(top: &str) -> (tempfile::TempDir, bramble_host::Bundle, SimBackend) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = write_bundle(dir.path(), &standin_manifest(top));
    let lib = {
        let _g = BUILD.lock().unwrap_or_else(|p| p.into_inner());
        sim::build(&bundle, &opts()).unwrap()
    };
    let be = SimBackend::new(&lib, &bundle, None).unwrap();
    (dir, bundle, be)
}

fn device(top: &str, cfg: &SimStreamConfig) -> (tempfile::TempDir, Device) {
    let (dir, bundle, be) = backend(top);
    let dma = be.dma(cfg).unwrap();
    let mut dev = Device::open(bundle, Box::new(be)).unwrap();
    dev.attach_stream(Box::new(dma)).unwrap();
    (dir, dev)
}

/// Raw inputs covering the edges (and the stand-in's wrap-around).
fn inputs(n: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|i| {
            (0..4)
                .map(|k| match (i + k) % 7 {
                    0 => -32768,
                    1 => 32767,
                    2 => 0,
                    _ => (next() % 65536) as i64 - 32768,
                })
                .collect()
        })
        .collect()
}

#[test]
fn batches_stream_bit_exact_with_random_backpressure() {
    for (valid, ready, seed) in [(100, 100, 1), (60, 50, 7), (30, 90, 11)] {
        let cfg = SimStreamConfig {
            valid_pct: valid,
            ready_pct: ready,
            seed,
            // Above 4 GiB: the driver writes the _MSB address registers.
            buffer_base: 0x1_2340_0000,
            dma: DmaConfig {
                addr_bits: 40,
                ..DmaConfig::default()
            },
            ..SimStreamConfig::default()
        };
        let (_dir, mut dev) = device("standin_top", &cfg);
        for n in [1, 2, 17, 100] {
            let xs = inputs(n, seed + n as u64);
            let b = dev
                .run_batch_raw(&xs, Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("{valid}/{ready} batch {n}: {e}"));
            assert_eq!(b.raw.len(), n);
            for (x, raw) in xs.iter().zip(&b.raw) {
                assert_eq!(raw, &standin_expected(x), "{valid}/{ready} batch {n}");
            }
            assert!(b.cycles.iter().all(|&c| c == LATENCY), "{:?}", b.cycles);
            let total = b.total_cycles.unwrap();
            // Every vector computes LATENCY cycles, back to back at best.
            assert!(total >= n as u64 * LATENCY, "total {total} for {n}");
            if valid == 100 && ready == 100 {
                // I/O overlaps compute: bounded by the slower of 2 input beats + 3 output beats
                // per vector and the compute, plus a fill/drain.
                assert!(
                    total <= n as u64 * (LATENCY + 6) + 60,
                    "total {total} for {n}"
                );
            }
        }
        // The window path still works after streaming.
        let out = dev.run_raw(&[1, 2, 3, 4], Duration::from_secs(5)).unwrap();
        assert_eq!(out.raw, standin_expected(&[1, 2, 3, 4]));
    }
}

#[test]
fn a_batch_larger_than_the_buffer_is_split_into_transfers() {
    // 2 input beats (8 bytes) + 3 output beats (12 bytes) per vector: 20 bytes; 64 are reserved
    // for alignment, so a 264-byte buffer carries 10 vectors per transfer.
    let cfg = SimStreamConfig {
        buffer_size: 264,
        ready_pct: 70,
        seed: 3,
        ..SimStreamConfig::default()
    };
    let (_dir, mut dev) = device("standin_top", &cfg);
    let xs = inputs(37, 5);
    let b = dev.run_batch_raw(&xs, Duration::from_secs(20)).unwrap();
    for (x, raw) in xs.iter().zip(&b.raw) {
        assert_eq!(raw, &standin_expected(x));
    }
    assert!(b.total_cycles.unwrap() >= 37 * LATENCY);
    // Float API: quantised like the window path.
    let fx: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64 * 0.5 - 1.0; 4]).collect();
    let fb = dev.run_batch(&fx, Duration::from_secs(20)).unwrap();
    let wb: Vec<_> = fx
        .iter()
        .map(|x| dev.run(x, Duration::from_secs(5)).unwrap().raw)
        .collect();
    assert_eq!(fb.raw, wb);
}

#[test]
fn a_consumer_that_never_takes_anything_is_a_stalled_stream_with_counts() {
    let cfg = SimStreamConfig {
        ready_pct: 0,
        ..SimStreamConfig::default()
    };
    let (_dir, mut dev) = device("standin_top", &cfg);
    let xs = inputs(10, 9);
    let e = dev
        .run_batch_raw(&xs, Duration::from_millis(300))
        .unwrap_err();
    match &e {
        Error::StreamTimeout {
            vectors,
            streamed,
            in_beats,
            out_beats,
            sim_cycles,
            ..
        } => {
            assert_eq!(*vectors, 10);
            assert_eq!(*streamed, 0);
            assert_eq!(*out_beats, 0);
            // The stand-in computes a vector only when its output buffer is free: one vector
            // computed and waiting to be sent, one received behind it, 2 beats each.
            assert_eq!(*in_beats, 4, "{e}");
            assert!(sim_cycles.unwrap() > 1000);
        }
        other => panic!("expected a stream timeout, got {other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("stream stalled") && msg.contains("IN_BEATS 4 of 20"),
        "{msg}"
    );
    assert!(msg.contains("still receiving"), "{msg}");
    // The model knows the bytes: 4 input beats of 4 bytes went out, nothing came back.
    assert!(msg.contains("bytes sent 16, received 0"), "{msg}");
    assert_eq!(bramble_host::cli::exit_code(&e), 4);
}

#[test]
fn a_design_that_never_computes_stalls_the_stream_too() {
    let (_dir, mut dev) = device("standin_stall_top", &SimStreamConfig::default());
    let e = dev
        .run_batch_raw(&inputs(3, 1), Duration::from_millis(200))
        .unwrap_err();
    assert!(matches!(e, Error::StreamTimeout { streamed: 0, .. }), "{e}");
}

#[test]
fn a_buffer_address_outside_memory_is_a_dma_decode_error() {
    let (_dir, bundle, be) = backend("standin_top");
    let mut dma = be.dma(&SimStreamConfig::default()).unwrap();
    // Program the channels by hand at an address the harness has no memory behind.
    let regs = dma.regs();
    regs.write32(dma::MM2S_DMACR, dma::CR_RESET).unwrap();
    regs.write32(dma::MM2S_DMACR, dma::CR_RS | dma::CR_ERR_IRQ_EN)
        .unwrap();
    assert_eq!(regs.read32(dma::MM2S_DMASR).unwrap() & dma::SR_HALTED, 0);
    regs.write32(dma::MM2S_SA, 0x1000).unwrap();
    regs.write32(dma::MM2S_LENGTH, 64).unwrap();
    let sr = regs.read32(dma::MM2S_DMASR).unwrap();
    assert_ne!(sr & dma::SR_DEC_ERR, 0, "{}", dma::describe_status(sr));
    assert_ne!(sr & dma::SR_ERR_IRQ, 0);
    assert_ne!(sr & dma::SR_HALTED, 0);
    assert_eq!(regs.read32(dma::MM2S_DMACR).unwrap() & dma::CR_RS, 0);
    // Err_Irq is write-1-to-clear; a reset brings the core back.
    regs.write32(dma::MM2S_DMASR, dma::SR_ERR_IRQ).unwrap();
    assert_eq!(regs.read32(dma::MM2S_DMASR).unwrap() & dma::SR_ERR_IRQ, 0);

    // Through the driver: a buffer that claims more than the model has behind it.
    let _ = bundle;
    let (_dir2, bundle2, be2) = backend("standin_top");
    let mut dma2 = be2
        .dma(&SimStreamConfig {
            buffer_size: 4096,
            ..SimStreamConfig::default()
        })
        .unwrap();
    let big = vec![0u8; 8192];
    let mut out = vec![0u8; 12];
    match dma2.transfer(&big, &mut out, Duration::from_secs(1)) {
        Err(StreamFault::Failed(e)) => {
            assert!(e.to_string().contains("do not fit"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let _ = bundle2;
    drop(be);
    drop(be2);
}

#[test]
fn decode_error_through_the_device_names_the_status_bits() {
    // A driver whose idea of the buffer's bus address is wrong: the model decodes nothing there.
    struct Shifted(sim::SimDmaBuffer);
    impl DmaBuffer for Shifted {
        fn describe(&self) -> String {
            "shifted".into()
        }
        fn phys_addr(&self) -> u64 {
            self.0.phys_addr() + (1 << 28)
        }
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn write(&mut self, o: u64, d: &[u8]) -> bramble_host::Result<()> {
            self.0.write(o, d)
        }
        fn read(&mut self, o: u64, d: &mut [u8]) -> bramble_host::Result<()> {
            self.0.read(o, d)
        }
        fn sync_for_device(&mut self, o: u64, l: u64) -> bramble_host::Result<()> {
            self.0.sync_for_device(o, l)
        }
        fn sync_for_cpu(&mut self, o: u64, l: u64) -> bramble_host::Result<()> {
            self.0.sync_for_cpu(o, l)
        }
    }
    let (_dir, bundle, be) = backend("standin_top");
    let (regs, buf) = be.dma(&SimStreamConfig::default()).unwrap().into_parts();
    let dma = dma::AxiDma::new(regs, Shifted(buf), DmaConfig::default());
    let mut dev = Device::open(bundle, Box::new(be)).unwrap();
    dev.attach_stream(Box::new(dma)).unwrap();
    let e = dev
        .run_batch_raw(&inputs(2, 1), Duration::from_secs(2))
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Stream { .. }), "{msg}");
    assert!(
        msg.contains("DMADecErr") && msg.contains("Err_Irq"),
        "{msg}"
    );
}

#[test]
fn the_stream_registers_read_as_specified() {
    let (_dir, mut dev) = device("standin_top", &SimStreamConfig::default());
    use bramble_abi::regs;
    assert_eq!(
        dev.read_register(regs::STREAM.offset).unwrap(),
        regs::stream_format(32, 16)
    );
    assert_eq!(dev.read_register(regs::TLAST_EVERY.offset).unwrap(), 1);
    dev.run_batch_raw(&inputs(5, 2), Duration::from_secs(5))
        .unwrap();
    assert_eq!(dev.read_register(regs::VECTORS.offset).unwrap(), 5);
    assert_eq!(dev.read_register(regs::IN_BEATS.offset).unwrap(), 10);
    assert_eq!(dev.read_register(regs::OUT_BEATS.offset).unwrap(), 15);
    assert_eq!(
        dev.read_register(regs::BUSY_LO.offset).unwrap() as u64,
        5 * LATENCY
    );
    assert_eq!(
        dev.read_register(regs::SSTATUS.offset).unwrap() & regs::SSTATUS_ACTIVE,
        0
    );
}

#[test]
fn sixty_four_bit_tdata_streams_four_lanes_a_beat() {
    let cfg = SimStreamConfig {
        valid_pct: 50,
        ready_pct: 50,
        seed: 5,
        ..SimStreamConfig::default()
    };
    let (_dir, mut dev) = device("standin_t64_top", &cfg);
    use bramble_abi::regs;
    assert_eq!(
        dev.read_register(regs::STREAM.offset).unwrap(),
        regs::stream_format(64, 16)
    );
    for n in [1, 2, 17, 100] {
        let xs = inputs(n, 40 + n as u64);
        let b = dev.run_batch_raw(&xs, Duration::from_secs(20)).unwrap();
        for (x, raw) in xs.iter().zip(&b.raw) {
            assert_eq!(raw, &standin_expected(x), "batch {n}");
        }
        assert_eq!(b.cycles, vec![LATENCY; n]);
        // One input beat and two output beats (3 outputs, then the cycles beat) a vector.
        assert_eq!(
            dev.read_register(regs::IN_BEATS.offset).unwrap() as usize,
            n
        );
        assert_eq!(
            dev.read_register(regs::OUT_BEATS.offset).unwrap() as usize,
            2 * n
        );
    }
}
