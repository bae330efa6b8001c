//! One loaded version of a served table: its record batches (read straight from a mapped
//! Arrow IPC file), a key index over them, and the lookups and gathers a request makes.
//!
//! The index is a `hashbrown::HashTable<u32>` of row ids: keys are never copied out of the
//! batches. A probe hashes the request's key the way the row was hashed and then compares
//! the key columns themselves, so two keys that collide in the hash never answer for each
//! other, and composite keys compare component by component (`("ab","c")` is not
//! `("a","bc")`).

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, UInt32Array, new_null_array,
};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{interleave, take};
use arrow::datatypes::{
    DataType, Int8Type, Int16Type, Int32Type, Int64Type, SchemaRef, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow::error::ArrowError;
use hashbrown::HashTable;

use super::config::Duplicates;

/// A key column, typed, borrowed from a batch (the table's or a request's).
#[derive(Clone, Copy)]
enum KeyCol<'a> {
    Utf8(&'a StringArray),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> KeyCol<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Utf8 => KeyCol::Utf8(array.as_string::<i32>()),
            DataType::Int8 => KeyCol::I8(array.as_primitive::<Int8Type>().values()),
            DataType::Int16 => KeyCol::I16(array.as_primitive::<Int16Type>().values()),
            DataType::Int32 => KeyCol::I32(array.as_primitive::<Int32Type>().values()),
            DataType::Int64 => KeyCol::I64(array.as_primitive::<Int64Type>().values()),
            DataType::UInt8 => KeyCol::U8(array.as_primitive::<UInt8Type>().values()),
            DataType::UInt16 => KeyCol::U16(array.as_primitive::<UInt16Type>().values()),
            DataType::UInt32 => KeyCol::U32(array.as_primitive::<UInt32Type>().values()),
            DataType::UInt64 => KeyCol::U64(array.as_primitive::<UInt64Type>().values()),
            _ => return None,
        })
    }

    #[inline]
    fn hash(&self, row: usize, h: &mut impl Hasher) {
        match self {
            KeyCol::Utf8(a) => {
                let bytes = a.value(row).as_bytes();
                h.write_usize(bytes.len());
                h.write(bytes);
            }
            KeyCol::I8(v) => h.write_i64(v[row].into()),
            KeyCol::I16(v) => h.write_i64(v[row].into()),
            KeyCol::I32(v) => h.write_i64(v[row].into()),
            KeyCol::I64(v) => h.write_i64(v[row]),
            KeyCol::U8(v) => h.write_u64(v[row].into()),
            KeyCol::U16(v) => h.write_u64(v[row].into()),
            KeyCol::U32(v) => h.write_u64(v[row].into()),
            KeyCol::U64(v) => h.write_u64(v[row]),
        }
    }

    /// Whether row `a` of `self` equals row `b` of `other` (same type on both sides: the
    /// request's keys are cast to the table's key types before any probe).
    #[inline]
    fn eq(&self, a: usize, other: &KeyCol, b: usize) -> bool {
        match (self, other) {
            (KeyCol::Utf8(x), KeyCol::Utf8(y)) => x.value(a).as_bytes() == y.value(b).as_bytes(),
            (KeyCol::I8(x), KeyCol::I8(y)) => x[a] == y[b],
            (KeyCol::I16(x), KeyCol::I16(y)) => x[a] == y[b],
            (KeyCol::I32(x), KeyCol::I32(y)) => x[a] == y[b],
            (KeyCol::I64(x), KeyCol::I64(y)) => x[a] == y[b],
            (KeyCol::U8(x), KeyCol::U8(y)) => x[a] == y[b],
            (KeyCol::U16(x), KeyCol::U16(y)) => x[a] == y[b],
            (KeyCol::U32(x), KeyCol::U32(y)) => x[a] == y[b],
            (KeyCol::U64(x), KeyCol::U64(y)) => x[a] == y[b],
            _ => false,
        }
    }

    fn display(&self, row: usize) -> String {
        match self {
            KeyCol::Utf8(a) => format!("'{}'", a.value(row)),
            KeyCol::I8(v) => v[row].to_string(),
            KeyCol::I16(v) => v[row].to_string(),
            KeyCol::I32(v) => v[row].to_string(),
            KeyCol::I64(v) => v[row].to_string(),
            KeyCol::U8(v) => v[row].to_string(),
            KeyCol::U16(v) => v[row].to_string(),
            KeyCol::U32(v) => v[row].to_string(),
            KeyCol::U64(v) => v[row].to_string(),
        }
    }
}

/// Hashes one composite key.
#[inline]
fn hash_key(state: &foldhash::fast::FixedState, cols: &[KeyCol], row: usize) -> u64 {
    let mut h = state.build_hasher();
    for c in cols {
        c.hash(row, &mut h);
    }
    h.finish()
}

#[inline]
fn keys_eq(a: &[KeyCol], ar: usize, b: &[KeyCol], br: usize) -> bool {
    a.iter().zip(b).all(|(x, y)| x.eq(ar, y, br))
}

/// Why a version could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A key column is not utf8 or an integer, or holds nulls.
    Key(String),
    /// The same key on two rows, with `duplicates: error`.
    Duplicate(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Key(m) | BuildError::Duplicate(m) => f.write_str(m),
        }
    }
}

/// Where a version came from, for status pages and response headers.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// Monotonic per table, across restarts.
    pub version: u64,
    /// The date partition (`2026-11-30`) or Delta version (`v12`) it was read from.
    pub partition: String,
    /// The Arrow IPC file in `data_dir` that holds it.
    pub file: PathBuf,
    /// The source's fingerprint of that data: a poll that finds the same one has nothing new.
    pub fingerprint: String,
    /// When it started serving.
    pub loaded_at: SystemTime,
}

/// One version of a table, immutable once built; requests share it through an `Arc` and
/// the swap to a newer one never changes it.
pub struct TableVersion {
    pub provenance: Provenance,
    pub schema: SchemaRef,
    batches: Vec<RecordBatch>,
    /// Global row id of each batch's first row.
    starts: Vec<usize>,
    rows: usize,
    key_cols: Vec<usize>,
    index: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
    /// Keys seen on more than one row (kept by `first`/`last`).
    pub duplicates: u64,
    /// Bytes of the mapped file.
    pub mapped_bytes: usize,
    /// Set when a newer version replaces this one: its file is removed once the last
    /// request holding it is done.
    retired: AtomicBool,
}

impl std::fmt::Debug for TableVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableVersion")
            .field("provenance", &self.provenance)
            .field("rows", &self.rows)
            .finish()
    }
}

impl Drop for TableVersion {
    fn drop(&mut self) {
        // The map is still alive here (the batches drop after this body), and unlinking a
        // mapped file is safe: the pages stay until the map goes.
        if self.retired.load(Ordering::Acquire)
            && let Err(e) = std::fs::remove_file(&self.provenance.file)
        {
            log::warn!(
                "serve: cannot remove {}: {e}",
                self.provenance.file.display()
            );
        }
    }
}

/// The key a request asks for, cast to the table's key types.
pub struct RequestKeys {
    pub columns: Vec<ArrayRef>,
    pub len: usize,
}

impl TableVersion {
    /// Builds the index over `batches` (all of `schema`), keyed by `key_cols`.
    ///
    /// # Errors
    /// When a key column is not utf8 or an integer or holds a null, or a key repeats and
    /// `duplicates` is `error`.
    pub fn build(
        provenance: Provenance,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        key_cols: Vec<usize>,
        duplicates: Duplicates,
        mapped_bytes: usize,
    ) -> Result<Self, BuildError> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if u32::try_from(rows).is_err() {
            return Err(BuildError::Key(format!(
                "{rows} rows is more than one table serves (at most {})",
                u32::MAX
            )));
        }
        let mut starts = Vec::with_capacity(batches.len());
        let mut at = 0;
        for b in &batches {
            starts.push(at);
            at += b.num_rows();
        }
        // Fixed per process and table version: an attacker cannot choose keys that collide
        // without knowing the seed.
        let hasher = foldhash::fast::FixedState::with_seed(seed());
        let mut cols_per_batch: Vec<Vec<KeyCol>> = Vec::with_capacity(batches.len());
        for b in &batches {
            let mut cols = Vec::with_capacity(key_cols.len());
            for &k in &key_cols {
                let array = b.column(k);
                let name = schema.field(k).name();
                if array.null_count() > 0 {
                    return Err(BuildError::Key(format!("key column '{name}' holds nulls")));
                }
                cols.push(KeyCol::of(array.as_ref()).ok_or_else(|| {
                    BuildError::Key(format!(
                        "key column '{name}' is {}; keys are utf8 or integers",
                        array.data_type()
                    ))
                })?);
            }
            cols_per_batch.push(cols);
        }
        let locate = |row: u32| locate(&starts, row);
        let mut index: HashTable<u32> = HashTable::with_capacity(rows);
        let mut repeated = 0u64;
        for (b, cols) in cols_per_batch.iter().enumerate() {
            for r in 0..batches[b].num_rows() {
                let h = hash_key(&hasher, cols, r);
                let global = (starts[b] + r) as u32;
                let found = index.find_mut(h, |&other| {
                    let (ob, or) = locate(other);
                    keys_eq(&cols_per_batch[ob], or, cols, r)
                });
                match found {
                    None => {
                        index.insert_unique(h, global, |&other| {
                            let (ob, or) = locate(other);
                            hash_key(&hasher, &cols_per_batch[ob], or)
                        });
                    }
                    Some(slot) => {
                        repeated += 1;
                        match duplicates {
                            Duplicates::Error => {
                                let key: Vec<String> = cols.iter().map(|c| c.display(r)).collect();
                                return Err(BuildError::Duplicate(format!(
                                    "key ({}) is on more than one row (rows {} and {global}); \
                                     set duplicates: first or last to serve it anyway",
                                    key.join(", "),
                                    *slot
                                )));
                            }
                            Duplicates::First => {}
                            Duplicates::Last => *slot = global,
                        }
                    }
                }
            }
        }
        drop(cols_per_batch);
        Ok(Self {
            provenance,
            schema,
            batches,
            starts,
            rows,
            key_cols,
            index,
            hasher,
            duplicates: repeated,
            mapped_bytes,
            retired: AtomicBool::new(false),
        })
    }

    /// Rows served.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The key columns' positions in [`Self::schema`].
    pub fn key_columns(&self) -> &[usize] {
        &self.key_cols
    }

    /// Bytes the key index holds (its buckets and control bytes).
    pub fn index_bytes(&self) -> usize {
        self.index.allocation_size()
    }

    /// Marks this version as replaced: its file goes when the last holder drops it.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }

    /// Looks each requested key up: the global row holding it, or `None`.
    pub fn lookup(&self, keys: &RequestKeys) -> Vec<Option<u32>> {
        let want: Vec<KeyCol> = keys
            .columns
            .iter()
            .map(|a| KeyCol::of(a.as_ref()).expect("request keys are cast to key types"))
            .collect();
        let table_cols: Vec<Vec<KeyCol>> = self
            .batches
            .iter()
            .map(|b| {
                self.key_cols
                    .iter()
                    .map(|&k| KeyCol::of(b.column(k).as_ref()).expect("checked when built"))
                    .collect()
            })
            .collect();
        let single = self.batches.len() == 1;
        (0..keys.len)
            .map(|i| {
                let h = hash_key(&self.hasher, &want, i);
                self.index
                    .find(h, |&row| {
                        let (b, r) = if single {
                            (0, row as usize)
                        } else {
                            self.locate(row)
                        };
                        keys_eq(&table_cols[b], r, &want, i)
                    })
                    .copied()
            })
            .collect()
    }

    fn locate(&self, row: u32) -> (usize, usize) {
        locate(&self.starts, row)
    }

    /// Column `column` at `rows` (a `None` gives a null).
    ///
    /// # Errors
    /// Arrow's, which the kernels only give on overflowing string offsets.
    pub fn gather(&self, column: usize, rows: &[Option<u32>]) -> Result<ArrayRef, ArrowError> {
        if self.batches.len() == 1 {
            let indices: UInt32Array = rows.iter().copied().collect();
            return take(self.batches[0].column(column), &indices, None);
        }
        let field = self.schema.field(column);
        let empty = new_null_array(field.data_type(), 1);
        let mut arrays: Vec<&dyn Array> = self
            .batches
            .iter()
            .map(|b| b.column(column).as_ref())
            .collect();
        arrays.push(empty.as_ref());
        let null_at = (arrays.len() - 1, 0);
        let picks: Vec<(usize, usize)> = rows
            .iter()
            .map(|r| r.map_or(null_at, |row| self.locate(row)))
            .collect();
        interleave(&arrays, &picks)
    }
}

/// The batch holding global row `row`, and the row within it (`starts`: each batch's
/// first global row).
fn locate(starts: &[usize], row: u32) -> (usize, usize) {
    let row = row as usize;
    let b = starts.partition_point(|&s| s <= row) - 1;
    (b, row - starts[b])
}

/// Replaces the values of missed keys in `gathered` with `default` (a one-row array).
///
/// # Errors
/// Arrow's, for arrays of different types (never, when the default was built for the
/// column).
pub fn fill_default(
    gathered: &ArrayRef,
    found: &BooleanArray,
    default: &ArrayRef,
) -> Result<ArrayRef, ArrowError> {
    zip(found, gathered, &arrow::array::Scalar::new(default))
}

/// The seed of the key hash: fixed for the process, different between processes.
fn seed() -> u64 {
    use std::sync::OnceLock;
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut h =
            foldhash::fast::FixedState::with_seed(u64::from(std::process::id())).build_hasher();
        h.write_u64(t);
        h.finish()
    })
}

/// An `Arc`'d version, as requests hold it.
pub type Version = Arc<TableVersion>;

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, Int64Array};
    use arrow::datatypes::{Field, Schema};

    fn provenance() -> Provenance {
        Provenance {
            version: 1,
            partition: "2026-11-30".into(),
            file: PathBuf::from("/nonexistent"),
            fingerprint: String::new(),
            loaded_at: SystemTime::now(),
        }
    }

    fn table(dups: Duplicates) -> Result<TableVersion, BuildError> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, false),
            Field::new("b", DataType::Int64, false),
            Field::new("x", DataType::Float32, true),
        ]));
        let b1 = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["ab", "a", "ab"])),
                Arc::new(Int64Array::from(vec![1, 1, 2])),
                Arc::new(Float32Array::from(vec![1.0, 2.0, 3.0])),
            ],
        )
        .unwrap();
        let b2 = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["a", "ab"])),
                Arc::new(Int64Array::from(vec![2, 1])),
                Arc::new(Float32Array::from(vec![4.0, 5.0])),
            ],
        )
        .unwrap();
        TableVersion::build(provenance(), schema, vec![b1, b2], vec![0, 1], dups, 0)
    }

    #[test]
    fn composite_keys_across_batches_and_duplicate_policies() {
        let e = table(Duplicates::Error).unwrap_err();
        assert!(e.to_string().contains("('ab', 1)"), "{e}");
        for (dups, want) in [(Duplicates::First, 1.0f32), (Duplicates::Last, 5.0)] {
            let t = table(dups).unwrap();
            assert_eq!(t.duplicates, 1);
            let keys = RequestKeys {
                columns: vec![
                    Arc::new(StringArray::from(vec!["ab", "a", "zz", "a", "a"])),
                    Arc::new(Int64Array::from(vec![1, 2, 1, 1, 3])),
                ],
                len: 5,
            };
            let rows = t.lookup(&keys);
            assert_eq!(rows.iter().filter(|r| r.is_some()).count(), 3);
            let x = t.gather(2, &rows).unwrap();
            let x = x.as_primitive::<arrow::datatypes::Float32Type>();
            assert_eq!(x.value(0), want);
            assert_eq!(x.value(1), 4.0);
            assert!(x.is_null(2));
            assert_eq!(x.value(3), 2.0);
            assert!(x.is_null(4));
        }
    }
}
