//! Latency of `Predictor::predict` for 1 and 1 024 candidate configurations of one failed job.
//!
//! `cargo bench -p medic-model --bench inference`. The model is trained briefly on synthetic history first (its
//! quality does not matter here, only its shape: the default 2^14 buckets, 16-wide embeddings, hidden 64 and 32).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use medic_core::SparkConf;
use medic_model::synthetic::{SyntheticConfig, generate};
use medic_model::{RetryContext, TrainConfig, train};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn candidates(n: usize) -> Vec<SparkConf> {
    (0..n)
        .map(|i| {
            let mut conf = SparkConf::new();
            conf.set(
                "spark.executor.memory",
                format!("{}m", 1024 + 128 * (i % 256)),
            );
            conf.set(
                "spark.executor.memoryOverhead",
                format!("{}m", 384 + 64 * (i % 16)),
            );
            conf.set("spark.executor.cores", format!("{}", 1 + i % 8));
            conf.set("spark.executor.instances", format!("{}", 2 + i % 100));
            conf.set("spark.sql.shuffle.partitions", "400");
            conf.set("spark.memory.fraction", "0.6");
            conf
        })
        .collect()
}

fn inference(c: &mut Criterion) {
    let records = generate(&SyntheticConfig::default(), 2_000);
    let config = TrainConfig {
        max_epochs: 1,
        ..TrainConfig::default()
    };
    let trained = train(&records, &config, |_, _| {}).expect("train");
    let predictor = trained.predictor().expect("predictor");
    let context = RetryContext::of(&records[0]);
    let mut group = c.benchmark_group("predict");
    for n in [1usize, 1024] {
        let batch = candidates(n);
        group.bench_function(format!("{n} candidates"), |b| {
            b.iter(|| predictor.predict(black_box(&context), black_box(&batch)))
        });
    }
    // The optimiser's path: the job folded into the first layer, rows patched rather than re-encoded.
    let scorer = predictor.for_job(&context).expect("scorer");
    let rows: Vec<f32> = candidates(1024)
        .iter()
        .flat_map(|conf| scorer.encode(conf))
        .collect();
    group.bench_function("job scorer, 1024 rows", |b| {
        b.iter(|| scorer.score(black_box(rows.clone())))
    });
    // The part of the 1 024-candidate call that is feature encoding, for comparison.
    let batch = candidates(1024);
    let spec = predictor.spec();
    let mut buffer = vec![0f32; 1024 * spec.numeric_width()];
    group.bench_function("encode 1024 candidates", |b| {
        b.iter(|| {
            for (row, conf) in buffer.chunks_exact_mut(spec.numeric_width()).zip(&batch) {
                spec.encode_numeric(black_box(conf), Some(1 << 34), row, None);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, inference);
criterion_main!(benches);
