//! query_sm: the state of each accepted part (the outcome its receipt has or would have),
//! kept in a bounded map, and the answer to a query_sm in the account's `query_sm` mode.

use otpgate_codec::pdu::{Body, COctetString, CommandStatus, Pdu, QuerySm, QuerySmResp};

use super::config::{MessageIdFormat, QuerySmMode, ReceiptStat};
use super::counters::Counters;
use super::ids::receipt_date_now;
use super::session::{Flow, Session};

/// The message number a message id names, written as the account writes ids.
fn number(id: &str, format: MessageIdFormat) -> Option<u64> {
    match format {
        MessageIdFormat::Decimal => id.parse().ok(),
        MessageIdFormat::Hex | MessageIdFormat::Mixed => u64::from_str_radix(id, 16).ok(),
    }
}

/// When the message reached its final state (SMPP absolute time); empty while it has not.
fn final_date(stat: ReceiptStat) -> COctetString {
    match stat {
        ReceiptStat::ENROUTE | ReceiptStat::ACCEPTD | ReceiptStat::UNKNOWN => {
            COctetString::default()
        }
        _ => COctetString::from(format!("{}00000+", receipt_date_now()).as_str()),
    }
}

impl Session {
    pub(super) async fn query(&mut self, seq: u32, q: QuerySm) -> Flow {
        let c = &self.shared.counters;
        Counters::inc(&c.query_sm);
        let answer = |status: CommandStatus, body: QuerySmResp| Pdu {
            command_status: status,
            sequence_number: seq,
            body: Body::QuerySmResp(body),
        };
        if !self.bound.is_some_and(|k| k.can_submit()) {
            Counters::inc(&c.invalid_bind_state);
            let pdu = answer(CommandStatus::ESME_RINVBNDSTS, QuerySmResp::default());
            return self.write(pdu).await;
        }
        if self.behaviour.query_sm == QuerySmMode::Refuse {
            Counters::inc(&c.generic_nacks);
            let nack = Pdu {
                command_status: CommandStatus::ESME_RINVCMDID,
                sequence_number: seq,
                body: Body::GenericNack,
            };
            return self.write(nack).await;
        }
        let id = q.message_id.to_str_lossy().into_owned();
        let known = number(&id, self.behaviour.message_id).and_then(|n| self.shared.states.get(n));
        let pdu = match known {
            // A query must name the source address the message was submitted with.
            Some((stat, source)) if source.as_bytes() == q.source.addr.as_bytes() => answer(
                CommandStatus::ESME_ROK,
                QuerySmResp {
                    message_id: q.message_id,
                    final_date: final_date(stat),
                    message_state: stat.message_state(),
                    error_code: u8::try_from(stat.error_code()).unwrap_or(u8::MAX),
                },
            ),
            _ => answer(CommandStatus::ESME_RQUERYFAIL, QuerySmResp::default()),
        };
        self.write(pdu).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message_states::MessageStates;

    #[test]
    fn states_are_bounded_and_ids_parse_per_format() {
        let s = MessageStates::new(2);
        s.insert(1, ReceiptStat::DELIVRD, "a".into());
        s.insert(2, ReceiptStat::UNDELIV, "a".into());
        s.insert(3, ReceiptStat::EXPIRED, "a".into());
        assert!(s.get(1).is_none());
        assert_eq!(s.get(3).map(|x| x.0), Some(ReceiptStat::EXPIRED));
        assert_eq!(number("ff", MessageIdFormat::Hex), Some(255));
        assert_eq!(number("255", MessageIdFormat::Decimal), Some(255));
        assert_eq!(number("zz", MessageIdFormat::Mixed), None);
    }
}
