//! A room: its participants and what they share (storage, queues, the developer log, sync
//! documents, hosted toolkits). Rooms are made on first connection and live as long as the
//! server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Map, Value};

use crate::hosting::Toolkits;
use crate::options::{DevRoomOptions, StorageOption};
use crate::participant::Participant;
use crate::storage::{MemoryStore, Storage};
use crate::toolkits::messaging::deliver;
use crate::toolkits::{DeveloperLog, Queues};

/// One room.
pub(crate) struct Room {
    pub name: String,
    pub options: Arc<DevRoomOptions>,
    participants: Mutex<Vec<Arc<Participant>>>,
    pub storage: Storage,
    pub queues: Queues,
    pub developer: DeveloperLog,
    #[cfg(feature = "sync")]
    pub docs: crate::toolkits::SyncDocs,
    pub toolkits: Toolkits,
}

/// Whether `name` may name a room (and its storage folder).
pub(crate) fn valid_room_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Room {
    fn new(name: &str, options: Arc<DevRoomOptions>) -> Room {
        let storage = match &options.storage {
            StorageOption::Memory => Storage::Memory(MemoryStore::default()),
            StorageOption::Dir(root) => Storage::in_dir(root.join(name)),
        };
        Room {
            name: name.to_string(),
            queues: Queues::new(options.max_queue_len),
            options,
            participants: Mutex::default(),
            storage,
            developer: DeveloperLog::default(),
            #[cfg(feature = "sync")]
            docs: Default::default(),
            toolkits: Toolkits::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Participant>>> {
        self.participants.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn join(&self, participant: Arc<Participant>) {
        self.lock().push(participant);
    }

    /// Removes a participant that left, with what it held: its toolkits, its waiting calls
    /// and its presence.
    pub(crate) fn leave(&self, participant: &Participant) {
        self.lock().retain(|p| p.id != participant.id);
        self.toolkits.remove_owner(&participant.id);
        participant.drop_hosted_calls();
        if participant.set_messaging(false) {
            self.announce_gone(participant);
        }
    }

    pub(crate) fn participant(&self, id: &str) -> Option<Arc<Participant>> {
        self.lock().iter().find(|p| p.id == id).cloned()
    }

    /// The participant whose `name` attribute is `name`.
    pub(crate) fn participant_named(&self, name: &str) -> Option<Arc<Participant>> {
        self.lock()
            .iter()
            .find(|p| p.attributes().get("name").and_then(Value::as_str) == Some(name))
            .cloned()
    }

    /// The participants other than `except` that enabled messaging.
    pub(crate) fn messaging_peers(&self, except: &str) -> Vec<Arc<Participant>> {
        self.lock()
            .iter()
            .filter(|p| p.id != except && p.messaging_enabled())
            .cloned()
            .collect()
    }

    /// Tells the others that `gone` stopped messaging (or left).
    pub(crate) fn announce_gone(&self, gone: &Participant) {
        for p in self.messaging_peers(&gone.id) {
            deliver(
                &p,
                &gone.id,
                "participant.disabled",
                json!({"id": gone.id}),
                &[],
            );
        }
    }

    /// Tells the others a participant's new attributes.
    pub(crate) fn announce_attributes(&self, who: &Participant, attributes: Map<String, Value>) {
        if !who.messaging_enabled() {
            return;
        }
        for p in self.messaging_peers(&who.id) {
            deliver(
                &p,
                &who.id,
                "participant.attributes",
                json!({"attributes": attributes}),
                &[],
            );
        }
    }

    /// Pushes a storage event to everyone in the room.
    pub(crate) fn storage_event(&self, packet_type: &str, header: Value) {
        for p in self.lock().iter() {
            p.push(packet_type, &header, &[]);
        }
    }

    /// A moved file: `storage.file.moved` where the client knows it, else deleted + updated.
    pub(crate) fn file_moved(&self, from: &str, to: &str, by: &str) {
        let moved = json!({"source_path": from, "destination_path": to, "participant_id": by});
        let deleted = json!({"path": from, "participant_id": by});
        let updated = json!({"path": to, "participant_id": by});
        for p in self.lock().iter() {
            if p.dialect.has_moved_event() {
                p.push("storage.file.moved", &moved, &[]);
            } else {
                p.push("storage.file.deleted", &deleted, &[]);
                p.push("storage.file.updated", &updated, &[]);
            }
        }
    }
}

/// The rooms of a server, by name.
#[derive(Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    /// The room `name`, made on first use.
    pub(crate) fn get(&self, name: &str, options: &Arc<DevRoomOptions>) -> Arc<Room> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Room::new(name, options.clone())))
            .clone()
    }
}
