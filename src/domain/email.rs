//! E-mail addresses: the one parser that decides both what the API accepts as a contact address and what the
//! mailer sends to, so an address stored is always an address a digest can go to.

use lettre::Address;
use lettre::message::Mailbox;

/// A bare address (`studio@example.lu`) the mailer can send to, or why not. Quoted local parts with separators
/// (`"x,y"@b.lu`), address literals (`a@[127.0.0.1]`) and display names (`Name <a@b.lu>`) are refused: the message
/// builder cannot put them in a `To:` header, so a digest to them would fail at once.
pub fn parse_address(text: &str) -> Result<Address, String> {
    let refused = || format!("`{text}` is not an e-mail address the mailer can send to, such as studio@example.lu");
    let mailbox: Mailbox = text.parse().map_err(|_| refused())?;
    if mailbox.name.is_some() || mailbox.email.to_string() != text {
        return Err(refused());
    }
    Ok(mailbox.email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_mailer_sends_to_and_nothing_else() {
        for ok in ["hello@lumen.lu", "a.b+tag@sub.example.lu", "o'neil@example.ie", "studio@xn--bcher-kva.example"] {
            assert!(parse_address(ok).is_ok(), "{ok}");
            let mailbox = Mailbox::new(None, parse_address(ok).unwrap());
            assert!(lettre::Message::builder().from(mailbox.clone()).to(mailbox).body(String::new()).is_ok(), "{ok}");
        }
        for bad in [
            "\"x,y\"@b.lu",
            "a@[127.0.0.1]",
            "\"<script>\"@b.lu",
            "Name <a@b.lu>",
            "a@b.lu, c@d.lu",
            "nope",
            "a@",
            "@b.lu",
            " a@b.lu",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}
