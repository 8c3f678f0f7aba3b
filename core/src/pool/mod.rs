//! Address pools: a device's secret pool of data addresses (setDup) and the per-day
//! address choice (deductFrom).
