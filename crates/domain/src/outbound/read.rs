//! Reading a message from JSON in one pass, so that every refusal names the field at
//! fault (`text.bold`, `template.components[0].parameters[1]`) when read through
//! `serde_path_to_error`: a derived reader for an internally tagged shape would buffer the
//! body and lose the path. The part is read by its key, whichever comes first of it and
//! `type`; a part that does not match `type` is refused at whichever of the two comes
//! second.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

use super::{Content, MessageType, OutboundMessage, Recipient};

impl<'de> Deserialize<'de> for OutboundMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor)
    }
}

impl<'de> Deserialize<'de> for Recipient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Recipient::parse(&raw).map_err(|e| de::Error::custom(e.problem))
    }
}

/// A key of the message object.
enum Key {
    From,
    To,
    ReplyTo,
    Type,
    Part(MessageType),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field of a message")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "from" => Key::From,
                    "to" => Key::To,
                    "reply_to" => Key::ReplyTo,
                    "type" => Key::Type,
                    part => Key::Part(
                        MessageType::deserialize(part.into_deserializer()).map_err(
                            |_: de::value::Error| {
                                E::custom(format_args!(
                                    "unknown field `{part}`, expected from, to, reply_to, type or the part type names"
                                ))
                            },
                        )?,
                    ),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = OutboundMessage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a message: from, to, type and the part that type names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OutboundMessage, A::Error> {
        let mut from: Option<String> = None;
        let mut to: Option<Recipient> = None;
        let mut reply_to: Option<Option<String>> = None;
        let mut declared: Option<MessageType> = None;
        let mut content: Option<Content> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::From => once(&mut from, map.next_value()?, "from")?,
                Key::To => once(&mut to, map.next_value()?, "to")?,
                Key::ReplyTo => once(&mut reply_to, map.next_value()?, "reply_to")?,
                Key::Type => {
                    let held = content.as_ref().map(Content::message_type);
                    let kind = map.next_value_seed(TypeSeed { held })?;
                    once(&mut declared, kind, "type")?;
                }
                Key::Part(part) => {
                    let seed = PartSeed {
                        part,
                        declared,
                        second: content.is_some(),
                    };
                    content = Some(map.next_value_seed(seed)?);
                }
            }
        }
        let missing = |name: &str| de::Error::custom(format_args!("missing field `{name}`"));
        let declared = declared.ok_or_else(|| missing("type"))?;
        Ok(OutboundMessage {
            from: from.ok_or_else(|| missing("from"))?,
            to: to.ok_or_else(|| missing("to"))?,
            reply_to: reply_to.flatten(),
            // A part of another type was refused as it was read.
            content: content.ok_or_else(|| missing(declared.name()))?,
        })
    }
}

fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::duplicate_field(name));
    }
    Ok(())
}

/// Reads `type`, refusing one that disagrees with the part read before it.
struct TypeSeed {
    held: Option<MessageType>,
}

impl<'de> DeserializeSeed<'de> for TypeSeed {
    type Value = MessageType;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<MessageType, D::Error> {
        let kind = MessageType::deserialize(deserializer)?;
        match self.held {
            Some(held) if held != kind => Err(de::Error::custom(format_args!(
                "is {kind}, but the message holds a `{held}` part"
            ))),
            _ => Ok(kind),
        }
    }
}

/// Reads a part, refusing one that `type` does not name or a second one.
struct PartSeed {
    part: MessageType,
    declared: Option<MessageType>,
    second: bool,
}

impl<'de> DeserializeSeed<'de> for PartSeed {
    type Value = Content;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Content, D::Error> {
        if let Some(declared) = self.declared.filter(|d| *d != self.part) {
            return Err(de::Error::custom(format_args!(
                "is not allowed when type is {declared}"
            )));
        }
        if self.second {
            return Err(de::Error::custom(
                "is a second part: a message holds the one part its type names",
            ));
        }
        self.part.read_part(deserializer)
    }
}
