//! Avro payloads to events: the Confluent wire format and Avro single-object
//! encoding, resolved against PortTrack's own schemas.
//!
//! Two framings are recognised by their first bytes:
//!
//! * **Confluent wire format**: `0x00`, a 4-byte big-endian schema id, then
//!   the Avro datum. The id names the *writer's* schema, fetched from the
//!   schema registry (`GET /schemas/ids/{id}`) once and cached, or mapped to
//!   one of PortTrack's schemas in configuration (`avro.schema_ids`) for use
//!   without a registry.
//! * **Single-object encoding** (Avro specification): `0xC3 0x01`, the
//!   8-byte little-endian CRC-64-AVRO (Rabin) fingerprint of the writer's
//!   schema, then the datum. Fingerprints of PortTrack's schemas are known
//!   without a registry.
//!
//! The datum is decoded with the writer's schema and resolved against
//! PortTrack's schema of the same full name (`dev.porttrack.v1.CargoEvent`
//! …), so producers may add optional fields (see `schemas/README.md`).
//!
//! Why not `schema_registry_converter`: it pins `apache-avro` 0.22 and
//! `reqwest` 0.13 (a second HTTP stack beside the sinks' 0.12) and is
//! async-only for lookups, while the source decodes on its poll thread and
//! needs one call, `GET /schemas/ids/{id}`, with a cache. That call is all
//! this module implements.
//!
//! (A third of this file is its tests: round trips, local and registry
//! schema lookups, quarantine cases, next to the code they check.)

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use apache_avro::headers::{HeaderBuilder, RabinFingerprintHeader};
use apache_avro::types::Value as Avro;
use apache_avro::{Schema, from_avro_datum};
use porttrack_schemas::{
    CargoEvent, Event, EventKind, PortOpsEvent, Position, RejectClass, Rejection, VesselStatic,
    WeatherObservation, schemas_by_kind,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The `[avro]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AvroConfig {
    /// Confluent-compatible schema registry, e.g. `http://registry:8081`.
    /// Without it, only `schema_ids` and single-object encoding work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
    /// Basic-auth user for the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_username: Option<String>,
    /// File holding the registry password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_password_file: Option<PathBuf>,
    /// Per registry request.
    #[serde(with = "humantime_serde")]
    pub registry_timeout: Duration,
    /// Confluent schema ids (decimal, as TOML keys are strings) mapped to
    /// PortTrack schema full names (`dev.porttrack.v1.CargoEvent`), for use
    /// without a registry.
    pub schema_ids: BTreeMap<String, String>,
}

impl Default for AvroConfig {
    fn default() -> Self {
        AvroConfig {
            registry_url: None,
            registry_username: None,
            registry_password_file: None,
            registry_timeout: Duration::from_secs(5),
            schema_ids: BTreeMap::new(),
        }
    }
}

/// Why the Avro catalogue could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AvroError {
    /// One of PortTrack's own schemas does not parse (a build defect).
    #[error("schema {name}: {message}")]
    Schema {
        /// Which schema.
        name: String,
        /// The parser's complaint.
        message: String,
    },
    /// `schema_ids` names a schema PortTrack does not have.
    #[error("avro.schema_ids: id {id} names {name:?}, which is not a PortTrack schema")]
    UnknownName {
        /// The configured id.
        id: u32,
        /// The configured name.
        name: String,
    },
    /// A `schema_ids` key is not a schema id.
    #[error("avro.schema_ids: {0:?} is not a schema id (a decimal number up to 4294967295)")]
    BadId(String),
    /// The registry client could not be built or the password not read.
    #[error("schema registry: {0}")]
    Registry(String),
}

struct Local {
    kind: EventKind,
    schema: Schema,
}

/// A writer schema and the index of the local schema it resolves to.
type Resolved = Result<(Schema, usize), Rejection>;

/// PortTrack's schemas, the registry client and its cache.
pub struct AvroCatalog {
    local: Vec<Local>,
    by_name: HashMap<String, usize>,
    by_fingerprint: HashMap<[u8; 10], usize>,
    by_id: HashMap<u32, (Resolved, Instant)>,
    registry: Option<Registry>,
}

impl std::fmt::Debug for AvroCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroCatalog")
            .field("schemas", &self.by_name.keys().collect::<Vec<_>>())
            .field("cached_ids", &self.by_id.len())
            .finish_non_exhaustive()
    }
}

struct Registry {
    url: String,
    client: reqwest::blocking::Client,
    auth: Option<(String, String)>,
}

/// The largest single allocation Avro decoding may make (a string or array).
const MAX_ALLOCATION: usize = 1 << 20;

/// How long a failed registry lookup is remembered before it is tried again.
const NEGATIVE_TTL: Duration = Duration::from_secs(30);

impl AvroCatalog {
    /// Parses PortTrack's schemas and prepares the registry client.
    pub fn new(config: AvroConfig) -> Result<Self, AvroError> {
        // A hostile length prefix must not make the decoder allocate hundreds
        // of megabytes; PortTrack's records are small. (Process-wide, first call wins.)
        apache_avro::util::max_allocation_bytes(MAX_ALLOCATION);
        let mut local = Vec::new();
        let mut by_name = HashMap::new();
        let mut by_fingerprint = HashMap::new();
        for (kind, _, text) in schemas_by_kind() {
            let schema = Schema::parse_str(text)
                .map_err(|e| AvroError::Schema { name: kind.as_str().into(), message: e.to_string() })?;
            let name = full_name(&schema).unwrap_or_default();
            let header = RabinFingerprintHeader::from_schema(&schema).build_header();
            if let Ok(h) = <[u8; 10]>::try_from(header.as_slice()) {
                by_fingerprint.insert(h, local.len());
            }
            by_name.insert(name, local.len());
            local.push(Local { kind, schema });
        }
        let mut by_id = HashMap::new();
        for (id, name) in &config.schema_ids {
            let id: u32 = id.trim().parse().map_err(|_| AvroError::BadId(id.clone()))?;
            let Some(&i) = by_name.get(name) else {
                return Err(AvroError::UnknownName { id, name: name.clone() });
            };
            // Configured ids never expire.
            by_id.insert(
                id,
                (Ok((local[i].schema.clone(), i)), Instant::now() + Duration::from_secs(u32::MAX.into())),
            );
        }
        let registry = match &config.registry_url {
            None => None,
            Some(url) => {
                let client = reqwest::blocking::Client::builder()
                    .timeout(config.registry_timeout)
                    .build()
                    .map_err(|e| AvroError::Registry(e.to_string()))?;
                let auth = match (&config.registry_username, &config.registry_password_file) {
                    (Some(user), Some(file)) => {
                        let password = std::fs::read_to_string(file)
                            .map_err(|e| AvroError::Registry(format!("reading {}: {e}", file.display())))?;
                        Some((user.clone(), password.trim_end().to_owned()))
                    }
                    (Some(user), None) => Some((user.clone(), String::new())),
                    _ => None,
                };
                Some(Registry { url: url.trim_end_matches('/').to_owned(), client, auth })
            }
        };
        Ok(AvroCatalog { local, by_name, by_fingerprint, by_id, registry })
    }

    /// The single-object header (`C3 01` + fingerprint) of PortTrack's schema for `kind`.
    pub fn single_object_header(&self, kind: EventKind) -> Option<Vec<u8>> {
        let l = self.local.iter().find(|l| l.kind == kind)?;
        Some(RabinFingerprintHeader::from_schema(&l.schema).build_header())
    }

    /// PortTrack's Avro schema for `kind`.
    pub fn schema(&self, kind: EventKind) -> Option<&Schema> {
        self.local.iter().find(|l| l.kind == kind).map(|l| &l.schema)
    }

    /// Decodes one framed Avro payload into an event (not yet validated).
    pub fn decode(&mut self, payload: &[u8]) -> Result<Event, Rejection> {
        let (writer, reader, mut datum): (Schema, usize, &[u8]) = match payload {
            [0, a, b, c, d, rest @ ..] => {
                let id = u32::from_be_bytes([*a, *b, *c, *d]);
                let (writer, i) = self.by_id(id)?;
                (writer, i, rest)
            }
            [0xC3, 0x01, rest @ ..] if rest.len() >= 8 => {
                let mut header = [0_u8; 10];
                header.copy_from_slice(&payload[..10]);
                let Some(&i) = self.by_fingerprint.get(&header) else {
                    return Err(Rejection::new(
                        RejectClass::SchemaUnknown,
                        format!(
                            "single-object fingerprint {:02x?} is not a PortTrack schema",
                            &payload[2..10]
                        ),
                    ));
                };
                (self.local[i].schema.clone(), i, &payload[10..])
            }
            _ => {
                return Err(Rejection::new(
                    RejectClass::MalformedAvro,
                    "neither Confluent wire format (magic byte 0 + schema id) nor Avro single-object encoding (C3 01 + fingerprint)",
                ));
            }
        };
        let local = &self.local[reader];
        let value = from_avro_datum(&writer, &mut datum, Some(&local.schema))
            .map_err(|e| Rejection::new(RejectClass::MalformedAvro, format!("avro datum: {e}")))?;
        if !datum.is_empty() {
            return Err(Rejection::new(
                RejectClass::MalformedAvro,
                format!("{} bytes left after the datum", datum.len()),
            ));
        }
        to_event(local.kind, value)
    }

    fn by_id(&mut self, id: u32) -> Resolved {
        if let Some((resolved, expires)) = self.by_id.get(&id)
            && (resolved.is_ok() || *expires > Instant::now())
        {
            return resolved.clone();
        }
        let resolved = self.fetch(id);
        self.by_id.insert(id, (resolved.clone(), Instant::now() + NEGATIVE_TTL));
        resolved
    }

    fn fetch(&self, id: u32) -> Resolved {
        let unknown = |m: String| Rejection::new(RejectClass::SchemaUnknown, m);
        let Some(registry) = &self.registry else {
            return Err(unknown(format!(
                "schema id {id}: no schema registry configured and not in avro.schema_ids"
            )));
        };
        #[derive(Deserialize)]
        struct SchemaById {
            schema: String,
            #[serde(default, rename = "schemaType")]
            schema_type: Option<String>,
        }
        let mut request = registry.client.get(format!("{}/schemas/ids/{id}", registry.url));
        if let Some((user, password)) = &registry.auth {
            request = request.basic_auth(user, Some(password));
        }
        // Three tries over about a second: a registry restart should not
        // quarantine records. Longer outages quarantine them (policy of
        // `schema_unknown`) rather than stall the poll loop past
        // `max.poll.interval.ms`.
        let mut last = String::new();
        for attempt in 0..3_u32 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
            let Some(req) = request.try_clone() else { break };
            match req.send() {
                Ok(resp) if resp.status().is_success() => {
                    let body: SchemaById =
                        resp.json().map_err(|e| unknown(format!("schema id {id}: registry answer: {e}")))?;
                    if body.schema_type.as_deref().is_some_and(|t| t != "AVRO") {
                        return Err(unknown(format!("schema id {id} is not Avro")));
                    }
                    let writer = Schema::parse_str(&body.schema).map_err(|e| {
                        unknown(format!("schema id {id}: registry schema does not parse: {e}"))
                    })?;
                    let name = full_name(&writer).unwrap_or_default();
                    let Some(&i) = self.by_name.get(&name) else {
                        return Err(unknown(format!("schema id {id} is {name:?}, not a PortTrack schema")));
                    };
                    return Ok((writer, i));
                }
                Ok(resp) if resp.status() == reqwest::StatusCode::NOT_FOUND => {
                    return Err(unknown(format!("schema id {id}: not found in the registry")));
                }
                Ok(resp) => last = format!("registry answered {}", resp.status()),
                Err(e) => last = format!("registry unreachable: {e}"),
            }
        }
        Err(unknown(format!("schema id {id}: {last}")))
    }
}

fn full_name(schema: &Schema) -> Option<String> {
    match schema {
        Schema::Record(r) => Some(r.name.fullname(None)),
        _ => None,
    }
}

/// Avro value to the JSON shape of PortTrack's types, then serde: one
/// mapping for every kind, and the same field checks as JSON input.
fn to_event(kind: EventKind, value: Avro) -> Result<Event, Rejection> {
    let json = to_json(value)?;
    let bad = |e: serde_json::Error| Rejection::new(RejectClass::MalformedAvro, format!("avro record: {e}"));
    Ok(match kind {
        EventKind::Position => Event::Position(serde_json::from_value::<Position>(json).map_err(bad)?),
        EventKind::Static => Event::Static(serde_json::from_value::<Box<VesselStatic>>(json).map_err(bad)?),
        EventKind::Weather => {
            Event::Weather(serde_json::from_value::<Box<WeatherObservation>>(json).map_err(bad)?)
        }
        EventKind::Cargo => Event::Cargo(serde_json::from_value::<Box<CargoEvent>>(json).map_err(bad)?),
        EventKind::PortOps => Event::PortOps(serde_json::from_value::<Box<PortOpsEvent>>(json).map_err(bad)?),
        _ => return Err(Rejection::new(RejectClass::SchemaUnknown, "event kind has no Avro mapping")),
    })
}

fn to_json(value: Avro) -> Result<Json, Rejection> {
    Ok(match value {
        Avro::Null => Json::Null,
        Avro::Boolean(b) => Json::Bool(b),
        Avro::Int(i) => Json::from(i),
        Avro::Long(i) => Json::from(i),
        // Through the shortest decimal form so 14.5_f32 stays 14.5.
        Avro::Float(f) => f
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        Avro::Double(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Avro::String(s) | Avro::Enum(_, s) => Json::String(s),
        Avro::Union(_, inner) => to_json(*inner)?,
        Avro::TimestampMillis(ms) => {
            let t = chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| {
                Rejection::new(RejectClass::TimestampAbsurd, format!("timestamp-millis {ms} is out of range"))
            })?;
            Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }
        Avro::Record(fields) => {
            let mut map = serde_json::Map::with_capacity(fields.len());
            for (name, v) in fields {
                let v = to_json(v)?;
                // Absent optional fields are `None` in Rust, not `null`.
                if !v.is_null() {
                    map.insert(name, v);
                }
            }
            Json::Object(map)
        }
        other => {
            return Err(Rejection::new(
                RejectClass::MalformedAvro,
                format!("unexpected avro value {other:?} in a PortTrack schema"),
            ));
        }
    })
}

/// Encodes `event` with PortTrack's schema, for producers and tests:
/// Confluent framing with `schema_id`, or single-object framing when `None`.
pub fn encode(catalog: &AvroCatalog, event: &Event, schema_id: Option<u32>) -> Result<Vec<u8>, String> {
    let kind = event.kind();
    let schema = catalog.schema(kind).ok_or("no schema for this kind")?;
    let json = serde_json::to_value(event).map_err(|e| e.to_string())?;
    let value = from_json(&json, schema)?;
    let datum = apache_avro::to_avro_datum(schema, value).map_err(|e| e.to_string())?;
    let mut out = match schema_id {
        Some(id) => {
            let mut v = vec![0_u8];
            v.extend_from_slice(&id.to_be_bytes());
            v
        }
        None => catalog.single_object_header(kind).ok_or("no header")?,
    };
    out.extend_from_slice(&datum);
    Ok(out)
}

fn from_json(json: &Json, schema: &Schema) -> Result<Avro, String> {
    Ok(match (schema, json) {
        (Schema::Null, Json::Null) => Avro::Null,
        (Schema::Boolean, Json::Bool(b)) => Avro::Boolean(*b),
        (Schema::Int, Json::Number(n)) => {
            Avro::Int(n.as_i64().and_then(|i| i32::try_from(i).ok()).ok_or("int")?)
        }
        (Schema::Long, Json::Number(n)) => Avro::Long(n.as_i64().ok_or("long")?),
        (Schema::Float, Json::Number(n)) => Avro::Float(n.as_f64().ok_or("float")? as f32),
        (Schema::Double, Json::Number(n)) => Avro::Double(n.as_f64().ok_or("double")?),
        (Schema::String, Json::String(s)) => Avro::String(s.clone()),
        (Schema::TimestampMillis, Json::String(s)) => Avro::TimestampMillis(
            chrono::DateTime::parse_from_rfc3339(s).map_err(|e| e.to_string())?.timestamp_millis(),
        ),
        (Schema::Enum(e), Json::String(s)) => {
            let i = e.symbols.iter().position(|x| x == s).ok_or_else(|| format!("symbol {s}"))?;
            Avro::Enum(u32::try_from(i).map_err(|e| e.to_string())?, s.clone())
        }
        (Schema::Union(u), v) => {
            let variants = u.variants();
            if v.is_null() {
                Avro::Union(0, Box::new(Avro::Null))
            } else {
                let (i, s) = variants.iter().enumerate().find(|(_, s)| **s != Schema::Null).ok_or("union")?;
                Avro::Union(u32::try_from(i).map_err(|e| e.to_string())?, Box::new(from_json(v, s)?))
            }
        }
        (Schema::Record(r), Json::Object(map)) => {
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let v = map.get(&f.name).unwrap_or(&Json::Null);
                fields.push((f.name.clone(), from_json(v, &f.schema)?));
            }
            Avro::Record(fields)
        }
        (s, v) => return Err(format!("cannot encode {v} as {s:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use porttrack_schemas::{CargoOperation, ValidationRules};

    fn cargo() -> Event {
        Event::Cargo(Box::new(CargoEvent {
            event_id: "ECT-1".into(),
            timestamp: Utc.with_ymd_and_hms(2026, 11, 22, 4, 0, 0).unwrap(),
            mmsi: 244_123_456,
            voyage: None,
            berth: "Europoort".into(),
            operation: CargoOperation::Discharge,
            containers: 40,
            teu: 66,
            imdg_class: Some("3".into()),
        }))
    }

    #[test]
    fn single_object_round_trip_without_a_registry() {
        let mut catalog = AvroCatalog::new(AvroConfig::default()).unwrap();
        let bytes = encode(&catalog, &cargo(), None).unwrap();
        assert_eq!(&bytes[..2], &[0xC3, 0x01]);
        assert_eq!(catalog.decode(&bytes).unwrap(), cargo());
    }

    #[test]
    fn confluent_framing_with_a_locally_mapped_id() {
        let config = AvroConfig {
            schema_ids: [("7".to_owned(), "dev.porttrack.v1.CargoEvent".to_owned())].into(),
            ..AvroConfig::default()
        };
        let mut catalog = AvroCatalog::new(config).unwrap();
        let bytes = encode(&catalog, &cargo(), Some(7)).unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 7]);
        let event = catalog.decode(&bytes).unwrap();
        assert_eq!(event, cargo());
        assert!(
            event
                .validate(&ValidationRules::default(), Utc.with_ymd_and_hms(2026, 11, 22, 4, 1, 0).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn unknown_ids_and_fingerprints_are_quarantined_and_garbage_is_malformed() {
        let mut catalog = AvroCatalog::new(AvroConfig::default()).unwrap();
        let err = catalog.decode(&[0, 0, 0, 0, 9, 1, 2]).unwrap_err();
        assert_eq!(err.class, RejectClass::SchemaUnknown);
        let err = catalog.decode(&[0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0]).unwrap_err();
        assert_eq!(err.class, RejectClass::SchemaUnknown);
        assert_eq!(catalog.decode(b"{\"json\":1}").unwrap_err().class, RejectClass::MalformedAvro);
        let mut truncated = encode(&catalog, &cargo(), None).unwrap();
        truncated.truncate(14);
        assert_eq!(catalog.decode(&truncated).unwrap_err().class, RejectClass::MalformedAvro);
    }

    #[test]
    fn a_configured_id_naming_no_schema_is_a_configuration_error() {
        let config = AvroConfig {
            schema_ids: [("1".to_owned(), "com.example.Nope".to_owned())].into(),
            ..AvroConfig::default()
        };
        assert!(matches!(AvroCatalog::new(config), Err(AvroError::UnknownName { id: 1, .. })));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..128)) {
            let mut catalog = AvroCatalog::new(AvroConfig::default()).unwrap();
            let _ = catalog.decode(&bytes);
            let mut framed = vec![0xC3, 0x01];
            framed.extend_from_slice(&catalog.single_object_header(EventKind::Cargo).unwrap()[2..]);
            framed.extend_from_slice(&bytes);
            let _ = catalog.decode(&framed);
        }
    }
}

/// The registry client against a minimal HTTP server speaking the Confluent
/// Schema Registry API (`GET /schemas/ids/{id}`). No registry can be installed
/// on the machines this is developed on, so this is the only registry
/// PortTrack is tested against; the responses follow Confluent's documented
/// format.
#[cfg(test)]
mod registry_tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use chrono::{TimeZone, Utc};
    use porttrack_schemas::CargoOperation;

    /// Serves `GET /schemas/ids/7` with the cargo schema, 404 otherwise;
    /// counts requests and checks basic auth.
    fn registry() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut authorised = false;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    // "porttrack:secret" in base64.
                    authorised |= header.trim() == "authorization: Basic cG9ydHRyYWNrOnNlY3JldA==";
                    if header.trim().is_empty() {
                        break;
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let cargo = schemas_by_kind().into_iter().find(|(k, _, _)| *k == EventKind::Cargo).unwrap().2;
                let (status, body) = if !authorised {
                    ("401 Unauthorized", r#"{"error_code":401,"message":"Unauthorized"}"#.to_owned())
                } else if request_line.starts_with("GET /schemas/ids/7 ") {
                    ("200 OK", serde_json::json!({ "schema": cargo }).to_string())
                } else {
                    ("404 Not Found", r#"{"error_code":40403,"message":"Schema not found"}"#.to_owned())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, hits)
    }

    #[test]
    fn ids_are_fetched_once_then_cached_and_unknown_ids_are_quarantined() {
        let (url, hits) = registry();
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("password");
        std::fs::write(&password, "secret\n").unwrap();
        let mut catalog = AvroCatalog::new(AvroConfig {
            registry_url: Some(url),
            registry_username: Some("porttrack".into()),
            registry_password_file: Some(password),
            ..AvroConfig::default()
        })
        .unwrap();
        let event = Event::Cargo(Box::new(CargoEvent {
            event_id: "c-1".into(),
            timestamp: Utc.with_ymd_and_hms(2026, 11, 22, 4, 0, 0).unwrap(),
            mmsi: 244_123_456,
            voyage: None,
            berth: "Europoort".into(),
            operation: CargoOperation::Load,
            containers: 1,
            teu: 2,
            imdg_class: None,
        }));
        let bytes = encode(&catalog, &event, Some(7)).unwrap();
        for _ in 0..3 {
            assert_eq!(catalog.decode(&bytes).unwrap(), event);
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "one lookup, then the cache");
        let mut unknown = bytes.clone();
        unknown[4] = 8;
        let err = catalog.decode(&unknown).unwrap_err();
        assert_eq!(err.class, RejectClass::SchemaUnknown);
        assert!(err.message.contains("not found"), "{}", err.message);
        let _ = catalog.decode(&unknown);
        assert_eq!(hits.load(Ordering::SeqCst), 2, "a miss is remembered too");
    }

    #[test]
    fn an_unreachable_registry_quarantines_after_a_few_quick_tries() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut catalog = AvroCatalog::new(AvroConfig {
            registry_url: Some(format!("http://127.0.0.1:{port}")),
            ..AvroConfig::default()
        })
        .unwrap();
        let started = std::time::Instant::now();
        let err = catalog.decode(&[0, 0, 0, 0, 7, 2]).unwrap_err();
        assert_eq!(err.class, RejectClass::SchemaUnknown);
        assert!(err.message.contains("unreachable"), "{}", err.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the poll loop is not stalled");
    }

    /// A registry that accepts connections and never answers: each lookup
    /// is bounded by `registry_timeout` (three tries), the records are
    /// quarantined, and the miss is remembered, so the next records of that
    /// id cost nothing and the poll loop (every partition's) moves on.
    #[test]
    fn a_hanging_registry_quarantines_within_its_timeout_and_is_not_asked_again() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                held.push(stream); // never read, never answered, never closed
            }
        });
        let mut catalog = AvroCatalog::new(AvroConfig {
            registry_url: Some(url),
            registry_timeout: Duration::from_millis(300),
            ..AvroConfig::default()
        })
        .unwrap();
        let started = std::time::Instant::now();
        let err = catalog.decode(&[0, 0, 0, 0, 9, 2]).unwrap_err();
        let first = started.elapsed();
        assert_eq!(err.class, RejectClass::SchemaUnknown);
        assert!(err.message.contains("unreachable"), "{}", err.message);
        // 3 × 300 ms timeouts + 600 ms of pauses, with room for a loaded machine.
        assert!(first < Duration::from_secs(5), "a hanging registry stalled the decoder for {first:?}");
        let tries = accepted.load(Ordering::SeqCst);
        assert!((1..=3).contains(&tries), "{tries} connections");
        let again = std::time::Instant::now();
        for _ in 0..1000 {
            assert_eq!(catalog.decode(&[0, 0, 0, 0, 9, 2]).unwrap_err().class, RejectClass::SchemaUnknown);
        }
        assert!(again.elapsed() < Duration::from_millis(500), "the miss is remembered");
        assert_eq!(accepted.load(Ordering::SeqCst), tries, "not asked again within the negative TTL");
    }
}
