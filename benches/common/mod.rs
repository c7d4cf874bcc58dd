//! Shared by the matching benchmarks: the synthetic cluster, the naive baselines, the measurements.

pub mod anatomy;
pub mod generator;
pub mod measure;
pub mod naive;
