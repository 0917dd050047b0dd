//! Splitting a bundle into one-object messages, dependencies first, as pycti does.
//!
//! OpenCTI's workers import the queue in parallel; pycti orders the objects so that what
//! an object refers to tends to be imported before it, and gives each a dependency weight
//! (`nb_deps`, also the message's `x_opencti_seq`). This module reproduces that algorithm
//! exactly (reference/opencti-protocol.md §7.3), on our typed objects ([`split_bundle`]) and
//! on any STIX JSON ([`split_json`]).
//!
//! The typed path borrows the objects and serialises none of them, except an object whose
//! references the splitter must edit (a reference to an id that is not in the bundle, a
//! cycle, a repeated list entry): that one is rewritten through [`JsonObject`]. Our
//! builders only refer to objects they put in the same bundle, so this stays rare.

mod json;
mod types;

use foldhash::{HashMap, HashMapExt};

use serde_json::Value;

use crate::stix::{Bundle, StixObject};

pub use json::JsonObject;
pub use types::{SUPPORTED_TYPES, is_supported};

/// The result of splitting one bundle.
#[derive(Debug)]
pub struct SplitBundle<'a> {
    /// The original bundle's id; every split message carries it.
    pub bundle_id: String,
    /// The objects to send, in sending order, each with its weight.
    pub items: Vec<SplitItem<'a>>,
    /// Ids of objects pycti would silently not send (unsupported types, relationships
    /// that lost an end).
    pub dropped: Vec<String>,
}

impl SplitBundle<'_> {
    /// How many expectations the work gets: one per object sent.
    pub fn expectations(&self) -> usize {
        self.items.len()
    }
}

/// One object to send and its dependency weight.
#[derive(Debug)]
pub struct SplitItem<'a> {
    /// `nb_deps`: 1 plus the weights of what the object refers to (counted per path).
    pub nb_deps: u64,
    /// The object, untouched or rewritten.
    pub object: SplitObject<'a>,
}

/// An object as it will be sent.
#[derive(Debug)]
pub enum SplitObject<'a> {
    /// A typed object the splitter did not have to change; `nb_deps` is added when it is
    /// written.
    Typed(&'a StixObject),
    /// A JSON object, possibly with references removed or nulled, already carrying its
    /// `nb_deps` key (in place if the input had one, else last).
    Json(JsonObject),
}

impl SplitObject<'_> {
    /// The object's id.
    pub fn id(&self) -> &str {
        match self {
            SplitObject::Typed(object) => object.id(),
            SplitObject::Json(object) => object.id().unwrap_or_default(),
        }
    }
}

/// Why a JSON bundle could not be split.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// The text is not JSON of the expected shape.
    #[error("bundle is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The bundle has no `objects` list.
    #[error("bundle has no objects list")]
    NoObjects,
    /// An object has no string `id`.
    #[error("object {index} of the bundle has no id")]
    NoId { index: usize },
}

/// Splits one of our bundles with pycti's `cleanup_inconsistent_bundle` on, which is what
/// the connector template always passes: references to ids outside the bundle go.
pub fn split_bundle(bundle: &Bundle) -> SplitBundle<'_> {
    split_typed(bundle.id(), bundle.objects(), true)
}

/// Splits typed objects; `cleanup` as pycti's `cleanup_inconsistent_bundle`.
pub fn split_typed<'a>(
    bundle_id: &str,
    objects: &'a [StixObject],
    cleanup: bool,
) -> SplitBundle<'a> {
    let nodes: Vec<Node<'a>> = objects.iter().map(Node::typed).collect();
    let first_of: Vec<usize> = (0..nodes.len()).collect();
    let walk = Walk::run(&nodes, &first_of, cleanup);

    let mut items = Vec::with_capacity(walk.elements.len());
    for &index in &walk.elements {
        let node = &nodes[index];
        let kept = &walk.kept[index];
        let object = &objects[index];
        let nb_deps = walk.nb_deps[index];
        let object = if kept.iter().all(|&k| k) && !has_repeated_list_entry(object) {
            SplitObject::Typed(object)
        } else {
            let mut json = rewrite_typed(object, node, kept);
            json.insert("nb_deps", Value::from(nb_deps));
            SplitObject::Json(json)
        };
        items.push(SplitItem { nb_deps, object });
    }
    items.sort_by_key(|item| item.nb_deps);

    let dropped = walk
        .dropped
        .iter()
        .map(|&i| nodes[i].id.to_owned())
        .collect();
    SplitBundle {
        bundle_id: bundle_id.to_owned(),
        items,
        dropped,
    }
}

/// Splits a STIX bundle given as JSON text. A bundle without an `id` gets a fresh
/// `bundle--<uuid4>`, as in pycti.
///
/// # Errors
///
/// When the text is not a JSON object with an `objects` list of objects with ids.
pub fn split_json(bundle_json: &[u8], cleanup: bool) -> Result<SplitBundle<'static>, SplitError> {
    #[derive(serde::Deserialize)]
    struct RawBundle {
        id: Option<String>,
        objects: Option<Vec<JsonObject>>,
    }

    let raw: RawBundle = serde_json::from_slice(bundle_json)?;
    let objects = raw.objects.ok_or(SplitError::NoObjects)?;
    let bundle_id = raw
        .id
        .unwrap_or_else(|| format!("bundle--{}", uuid::Uuid::new_v4()));
    split_objects(&bundle_id, objects, cleanup)
}

/// Splits JSON objects given in bundle order.
///
/// # Errors
///
/// [`SplitError::NoId`] when an object has no string `id`.
pub fn split_objects(
    bundle_id: &str,
    objects: Vec<JsonObject>,
    cleanup: bool,
) -> Result<SplitBundle<'static>, SplitError> {
    if let Some(index) = objects.iter().position(|o| o.id().is_none()) {
        return Err(SplitError::NoId { index });
    }

    // A repeated id keeps its last copy, walked where the id first appeared.
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<Option<JsonObject>> = Vec::new();
    let mut first_of = Vec::new();
    for object in objects {
        let id = object.id().unwrap_or_default().to_owned();
        match position.get(&id) {
            Some(&at) => unique[at] = Some(object),
            None => {
                position.insert(id, unique.len());
                first_of.push(unique.len());
                unique.push(Some(object));
            }
        }
    }
    let unique: Vec<JsonObject> = unique.into_iter().flatten().collect();

    let (walk, ids) = {
        let nodes: Vec<Node<'_>> = unique.iter().map(Node::json).collect();
        let walk = Walk::run(&nodes, &first_of, cleanup);
        let ids: Vec<String> = walk
            .dropped
            .iter()
            .map(|&i| nodes[i].id.to_owned())
            .collect();
        (walk, ids)
    };

    let mut slots: Vec<Option<JsonObject>> = unique.into_iter().map(Some).collect();
    let mut items = Vec::with_capacity(walk.elements.len());
    for &index in &walk.elements {
        let Some(mut object) = slots[index].take() else {
            continue;
        };
        object.rewrite(&walk.kept[index]);
        object.insert("nb_deps", Value::from(walk.nb_deps[index]));
        items.push(SplitItem {
            nb_deps: walk.nb_deps[index],
            object: SplitObject::Json(object),
        });
    }
    items.sort_by_key(|item| item.nb_deps);

    Ok(SplitBundle {
        bundle_id: bundle_id.to_owned(),
        items,
        dropped: ids,
    })
}

/// What the walk needs to know of an object.
struct Node<'a> {
    id: &'a str,
    internal_ids: Vec<&'a str>,
    /// Referenced ids, in key order.
    slots: Vec<&'a str>,
    kind: NodeKind,
}

/// Which slots decide whether the object can be sent.
enum NodeKind {
    /// `source_ref` and `target_ref` slots (`None`: the key is null or absent).
    Relationship {
        source: Option<usize>,
        target: Option<usize>,
    },
    /// The `sighting_of_ref` slot and the `where_sighted_refs` slots.
    Sighting {
        of: Option<usize>,
        sighted: Vec<usize>,
    },
    Other,
}

impl<'a> Node<'a> {
    fn typed(object: &'a StixObject) -> Self {
        let slots = object.refs();
        let kind = match object {
            StixObject::Relationship(relationship) => {
                // Find the two fields by address: the same id may also be, say, the author.
                let at = |field: &str| slots.iter().position(|s| s.as_ptr() == field.as_ptr());
                NodeKind::Relationship {
                    source: at(&relationship.source_ref),
                    target: at(&relationship.target_ref),
                }
            }
            _ => NodeKind::Other,
        };
        Node {
            id: object.id(),
            internal_ids: Vec::new(),
            slots,
            kind,
        }
    }

    fn json(object: &'a JsonObject) -> Self {
        let ref_slots = object.ref_slots();
        let single = |key: &str| ref_slots.iter().position(|s| s.key == key);
        let kind = match object.stix_type() {
            Some("relationship") => NodeKind::Relationship {
                source: single("source_ref"),
                target: single("target_ref"),
            },
            Some("sighting") => NodeKind::Sighting {
                of: single("sighting_of_ref"),
                sighted: (0..ref_slots.len())
                    .filter(|&i| ref_slots[i].key == "where_sighted_refs")
                    .collect(),
            },
            _ => NodeKind::Other,
        };
        Node {
            id: object.id().unwrap_or_default(),
            internal_ids: object.internal_ids(),
            slots: ref_slots.iter().map(|s| s.target).collect(),
            kind,
        }
    }

    fn is_compatible(&self, kept: &[bool]) -> bool {
        let on = |slot: Option<usize>| slot.is_some_and(|i| kept[i]);
        match &self.kind {
            NodeKind::Relationship { source, target } => on(*source) && on(*target),
            NodeKind::Sighting { of, sighted } => on(*of) && sighted.iter().any(|&i| kept[i]),
            NodeKind::Other => is_supported(self.id),
        }
    }

    fn is_self(&self, target: &str) -> bool {
        self.id == target || self.internal_ids.contains(&target)
    }
}

/// pycti's `enlist_element`, run with an explicit stack so that a long chain of
/// references cannot overflow ours.
struct Walk {
    /// The last weight written into each object (what the sort and the memo read).
    nb_deps: Vec<u64>,
    /// Per object, per slot: whether the reference stays (the last walk of it wins).
    kept: Vec<Vec<bool>>,
    /// Objects to send, in the order their first walk finished (dependencies first).
    elements: Vec<usize>,
    /// Objects whose first walk found them not sendable.
    dropped: Vec<usize>,
}

struct Frame {
    node: usize,
    next_slot: usize,
    nb: u64,
    kept: Vec<bool>,
    /// Whether this walk pushed its id onto the path of parents.
    pushed_parent: bool,
}

impl Walk {
    fn run(nodes: &[Node<'_>], top_order: &[usize], cleanup: bool) -> Walk {
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            index.insert(node.id, i);
        }
        for (i, node) in nodes.iter().enumerate() {
            for internal in &node.internal_ids {
                index.insert(internal, i);
            }
        }

        let mut walk = Walk {
            nb_deps: vec![0; nodes.len()],
            kept: nodes.iter().map(|n| vec![false; n.slots.len()]).collect(),
            elements: Vec::new(),
            dropped: Vec::new(),
        };
        let mut memoised = vec![false; nodes.len()];
        // What each object was found to depend on (pycti's `cache_refs`).
        let mut depends_on: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        let mut parents: Vec<&str> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();

        for &top in top_order {
            if memoised[top] {
                continue;
            }
            stack.push(Frame::new(top, nodes[top].slots.len(), false));

            while let Some(frame) = stack.last_mut() {
                let node = &nodes[frame.node];
                if frame.next_slot < node.slots.len() {
                    let slot = frame.next_slot;
                    frame.next_slot += 1;
                    let target = node.slots[slot];
                    let found = index.get(target).copied();
                    let must_be_cleaned = found.is_none() && cleanup;
                    let keep = is_supported(target)
                        && !must_be_cleaned
                        && !parents.contains(&target)
                        && !node.is_self(target)
                        && !found.is_some_and(|t| depends_on[t].contains(&frame.node));
                    if !keep {
                        continue;
                    }
                    frame.kept[slot] = true;
                    let Some(child) = found else { continue };
                    depends_on[frame.node].push(child);
                    if memoised[child] {
                        frame.nb += walk.nb_deps[child];
                    } else {
                        parents.push(target);
                        stack.push(Frame::new(child, nodes[child].slots.len(), true));
                    }
                    continue;
                }

                // This walk of the object is complete: record it and hand its weight up.
                let Some(done) = stack.pop() else { break };
                if done.pushed_parent {
                    parents.pop();
                }
                walk.nb_deps[done.node] = done.nb;
                if !memoised[done.node] {
                    memoised[done.node] = true;
                    if nodes[done.node].is_compatible(&done.kept) {
                        walk.elements.push(done.node);
                    } else {
                        walk.dropped.push(done.node);
                    }
                }
                walk.kept[done.node] = done.kept;
                if let Some(parent) = stack.last_mut() {
                    parent.nb += done.nb;
                }
            }
        }
        walk
    }
}

impl Frame {
    fn new(node: usize, slots: usize, pushed_parent: bool) -> Self {
        Frame {
            node,
            next_slot: 0,
            nb: 1,
            kept: vec![false; slots],
            pushed_parent,
        }
    }
}

/// Whether a list field of the object names the same id twice (the splitter collapses
/// such repeats, so the object must be rewritten).
fn has_repeated_list_entry(object: &StixObject) -> bool {
    fn repeats(list: &[String]) -> bool {
        list.iter()
            .enumerate()
            .any(|(i, id)| list[..i].contains(id))
    }
    match object {
        StixObject::Identity(_) | StixObject::Marking(_) | StixObject::Location(_) => false,
        StixObject::IntrusionSet(o) => repeats(&o.object_marking_refs),
        StixObject::Observable(o) => repeats(&o.object_marking_refs),
        StixObject::Indicator(o) => repeats(&o.object_marking_refs),
        StixObject::Relationship(o) => repeats(&o.object_marking_refs),
        StixObject::Report(o) => {
            // Long report lists: a set beats the quadratic scan.
            let mut seen =
                <foldhash::HashSet<_> as foldhash::HashSetExt>::with_capacity(o.object_refs.len());
            !o.object_refs.iter().all(|id| seen.insert(id.as_str()))
                || repeats(&o.object_marking_refs)
        }
    }
}

/// Rewrites a typed object through its JSON form with the walk's verdicts.
fn rewrite_typed(object: &StixObject, node: &Node<'_>, kept: &[bool]) -> JsonObject {
    // Serialising our own types cannot fail (string keys, no non-finite floats).
    let text = serde_json::to_vec(object).unwrap_or_default();
    let mut json: JsonObject = serde_json::from_slice(&text).unwrap_or_default();
    debug_assert_eq!(
        json.ref_slots()
            .iter()
            .map(|s| s.target)
            .collect::<Vec<_>>(),
        node.slots,
        "StixObject::refs() must list references in serialised key order"
    );
    json.rewrite(kept);
    json
}

#[cfg(test)]
mod tests;
