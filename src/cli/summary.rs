//! What a conversion or a run did, told to the user at the end.

use std::collections::BTreeMap;
use std::fmt;

use crate::scopes::Skipped;
use crate::stix::Bundle;

/// Counts of what went in and what came out.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Input items read, by kind (`publications`, `IoCs`, `YARA rules`, ...).
    pub read: BTreeMap<&'static str, usize>,
    /// Items excluded by configuration.
    pub excluded: usize,
    /// Skipped items by reason (the first few items are named).
    pub skipped: BTreeMap<String, Vec<String>>,
    /// Objects written, by STIX type.
    pub objects: BTreeMap<String, usize>,
    pub bundles: usize,
    /// Why nothing came out, when nothing did.
    pub notes: Vec<String>,
}

impl Summary {
    /// Counts `n` items of a kind read.
    pub fn read(&mut self, kind: &'static str, n: usize) {
        *self.read.entry(kind).or_default() += n;
    }

    /// Records skipped items.
    pub fn skipped(&mut self, skipped: &[Skipped]) {
        for skip in skipped {
            self.skipped
                .entry(skip.reason.clone())
                .or_default()
                .push(skip.item.clone());
        }
    }

    /// Counts a bundle's objects by type.
    pub fn bundle(&mut self, bundle: &Bundle) {
        self.bundles += 1;
        for object in bundle.objects() {
            *self
                .objects
                .entry(object.stix_type().to_owned())
                .or_default() += 1;
        }
    }

    /// Total number of skipped items.
    pub fn skipped_count(&self) -> usize {
        self.skipped.values().map(Vec::len).sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read: Vec<String> = self.read.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(
            f,
            "read: {}",
            if read.is_empty() {
                "nothing".into()
            } else {
                read.join(", ")
            }
        )?;
        if self.excluded > 0 {
            writeln!(f, "excluded by configuration: {}", self.excluded)?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "skipped: {}", self.skipped_count())?;
            for (reason, items) in &self.skipped {
                let shown: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
                let more = if items.len() > 3 {
                    format!(", +{} more", items.len() - 3)
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "  {} x {reason} ({}{more})",
                    items.len(),
                    shown.join(", ")
                )?;
            }
        }
        writeln!(f, "bundles: {}", self.bundles)?;
        let total: usize = self.objects.values().sum();
        writeln!(f, "objects: {total}")?;
        for (kind, n) in &self.objects {
            writeln!(f, "  {kind:<20} {n}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
