"""Drivers that talk to the bot as the providers do: signed webhooks in, provider calls out."""

from __future__ import annotations

import copy
import itertools
import re
import uuid

from twilio.request_validator import RequestValidator

from bot import clock
from tests.support.africastalking_api import AfricasTalkingAPI
from tests.support.fake_telegram import FakeTelegram
from tests.support.twilio_api import TwilioAPI

PUBLIC_BASE_URL = "https://circlebot.test"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-auth-token"
TELEGRAM_TOKEN = "123456:TEST-TOKEN"
TELEGRAM_SECRET = "test-webhook-secret"
BOT_USERNAME = "circlebot_test_bot"
SMS_FROM = "+15550000000"
WHATSAPP_FROM = "whatsapp:+15550000001"
AT_USERNAME = "circlebot"
AT_API_KEY = "atsk_test_" + "0" * 54
AT_SHORTCODE = "22384"
AT_SECRET = "test-africastalking-secret-3f9c1d7e"
AT_SMS_PATH = "/webhooks/africastalking/sms"
AT_DELIVERY_PATH = "/webhooks/africastalking/delivery"
SAFARICOM = "63902"  # the networkCode Africa's Talking gives Safaricom's subscribers

_update_ids = itertools.count(1000)


def signed_twilio_post(client, path: str, form: dict[str, str], token: str = TWILIO_TOKEN):
    """Post a form to our Twilio webhook with the signature Twilio would compute."""
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def telegram_post(client, update: dict, secret: str = TELEGRAM_SECRET):
    """Post an update to our Telegram webhook with the secret Telegram would send."""
    return client.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


def africastalking_post(client, path: str, form: dict[str, str], secret: str | None = AT_SECRET):
    """Post a form to an Africa's Talking callback URL, which carries our secret."""
    query = {} if secret is None else {"secret": secret}
    return client.post(path, query_string=query, data=form)


class PhoneUser:
    """Someone texting the bot by SMS or WhatsApp."""

    def __init__(self, client, twilio: TwilioAPI, number: str, whatsapp: bool = False) -> None:
        self.client, self.twilio, self.number, self.whatsapp = client, twilio, number, whatsapp
        self.address = f"whatsapp:{number}" if whatsapp else number
        self.handle = f"{'whatsapp' if whatsapp else 'sms'}:{number}"

    def says(self, text: str, **extra: str) -> str:
        """Send a message; returns its MessageSid (post it again to replay it)."""
        sid = extra.pop("MessageSid", None) or "SM" + uuid.uuid4().hex
        form = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": TWILIO_SID,
            "From": self.address,
            "To": WHATSAPP_FROM if self.whatsapp else SMS_FROM,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
        } | extra
        response = signed_twilio_post(self.client, "/webhooks/twilio", form)
        assert response.status_code == 200, response.data
        return sid

    def replies(self) -> list[str]:
        """Every message the bot sent this person, in order."""
        return self.twilio.to(self.address)

    def buttons(self) -> list[str]:
        """The titles of the quick-reply buttons on the latest content message to this person."""
        return [button["title"] for button in self.twilio.quick_replies(self.address)]

    def taps(self, title: str) -> str:
        """Tap a quick-reply button, as WhatsApp reports it to Twilio; returns its MessageSid."""
        button = next(b for b in self.twilio.quick_replies(self.address) if b["title"] == title)
        return self.says(title, ButtonText=title, ButtonPayload=button["id"])

    def last_reply(self) -> str:
        replies = self.replies()
        assert replies, f"nothing was sent to {self.address}"
        return replies[-1]


class AfricasTalkingUser:
    """Someone texting the bot's shortcode in Kenya, through Africa's Talking."""

    def __init__(self, client, africastalking: AfricasTalkingAPI, number: str) -> None:
        self.client, self.africastalking, self.number = client, africastalking, number
        self.handle = f"sms:{number}"

    def form(self, text: str, link_id: str | None = None, message_id: str | None = None) -> dict:
        """The form Africa's Talking posts for this text (a premium shortcode adds a linkId)."""
        form = {
            "from": self.number,
            "to": AT_SHORTCODE,
            "text": text,
            "date": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
            "id": message_id or str(uuid.uuid4()),
            "networkCode": SAFARICOM,
        }
        return form | ({"linkId": link_id} if link_id else {})

    def says(self, text: str, link_id: str | None = None, message_id: str | None = None) -> str:
        """Send a message; returns its id (post it again to replay it)."""
        form = self.form(text, link_id, message_id)
        response = africastalking_post(self.client, AT_SMS_PATH, form)
        assert response.status_code == 200, response.data
        return form["id"]

    def replies(self) -> list[str]:
        """Every message the bot sent this person through Africa's Talking, in order."""
        return self.africastalking.to(self.number)

    def last_reply(self) -> str:
        replies = self.replies()
        assert replies, f"nothing was sent to {self.number} through Africa's Talking"
        return replies[-1]


class TelegramUser:
    """Someone writing to the bot on Telegram, directly or in a group."""

    def __init__(self, client, telegram: FakeTelegram, user_id: int, first_name: str = "Ann"):
        self.client, self.telegram, self.user_id = client, telegram, user_id
        self.first_name = first_name
        self.handle = f"telegram:{user_id}"

    def update(self, text: str, chat: dict | None = None) -> dict:
        """The update Telegram would send for this text."""
        update_id = next(_update_ids)
        sender = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        chat = chat or {"id": self.user_id, "type": "private", "first_name": self.first_name}
        message = {"message_id": update_id, "from": sender, "chat": chat, "date": 1790000000}
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split(" ", 1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"update_id": update_id, "message": message}

    def says(self, text: str) -> dict:
        update = self.update(text)
        response = telegram_post(self.client, update)
        assert response.status_code == 200, response.data
        return update

    def says_in(self, group_id: int, text: str, title: str = "Team chat") -> dict:
        update = self.update(text, chat={"id": group_id, "type": "group", "title": title})
        response = telegram_post(self.client, update)
        assert response.status_code == 200, response.data
        return update

    def replies(self) -> list[str]:
        return self.telegram.sent_texts(chat_id=self.user_id)

    def last_question(self) -> dict:
        """The latest message sent to this person that still shows buttons."""
        shown = [
            message
            for (chat_id, _), message in sorted(self.telegram.messages.items())
            if chat_id == self.user_id and message.get("reply_markup")
        ]
        assert shown, f"no message to telegram:{self.user_id} shows buttons"
        # A copy, as a phone that has not yet seen the keyboard go would still show it.
        return copy.deepcopy(shown[-1])

    def buttons(self, message: dict | None = None) -> list[str]:
        """The labels of the buttons on a message (the latest question by default)."""
        message = message or self.last_question()
        keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
        return [key["text"] for row in keyboard for key in row]

    def tap_update(self, label: str, message: dict | None = None, by: int | None = None) -> dict:
        """The callback_query update Telegram sends when `label` is tapped on `message`."""
        message = message or self.last_question()
        keys = [key for row in message["reply_markup"]["inline_keyboard"] for key in row]
        key = next((key for key in keys if key["text"] == label), None)
        assert key is not None, f"no button {label!r} in {[k['text'] for k in keys]}"
        presser = by or self.user_id
        return {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": uuid.uuid4().hex[:16],
                "from": {"id": presser, "is_bot": False, "first_name": self.first_name},
                "message": message,
                "chat_instance": str(self.user_id),
                "data": key["callback_data"],
            },
        }

    def taps(self, label: str, message: dict | None = None) -> dict:
        """Tap a button (on the latest question by default); returns the update to replay it."""
        update = self.tap_update(label, message)
        response = telegram_post(self.client, update)
        assert response.status_code == 200, response.data
        return update

    def last_reply(self) -> str:
        replies = self.replies()
        assert replies, f"nothing was sent to telegram:{self.user_id}"
        return replies[-1]


# A command refused for want of a role: it names who may use it and what to do instead.
_REFUSAL = re.compile(
    r"Sorry, [A-Z]+ is for (facilitators|organizers)\. "
    r"(Try [A-Z]+, or reply|Reply) HELP to see what you can do\."
)


def refused(reply: str) -> bool:
    """Whether a reply is the refusal of a command the person's role does not allow."""
    return _REFUSAL.fullmatch(reply) is not None
