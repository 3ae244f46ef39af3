"""What the call page's JavaScript needs, rendered with ``json_script``.

Owned by the call page work; the view only passes its result to the template.
Everything the browser needs comes from here: no URL, limit or UI string is
hard-coded in ``static/js/call/``.
"""

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .models import Guest, Membership, Room

# A sender never sends one peer more than this, however large the budget: more
# does not make a 720p camera look better, and it leaves room for audio.
PER_PEER_VIDEO_MAX_KBPS = 1500

CHAT_MAX_LENGTH = 2000
CHAT_HISTORY = 100

_VIDEO_RE = re.compile(r"^\s*(\d{2,5})\s*x\s*(\d{2,5})\s*(?:@\s*(\d{1,3}))?\s*$")


def video_constraints(spec: str) -> dict[str, Any]:
    """``"1280x720@30"`` → ideal getUserMedia video constraints (720p30 if malformed)."""
    match = _VIDEO_RE.match(spec or "")
    width, height, fps = (1280, 720, 30)
    if match:
        width, height = int(match[1]), int(match[2])
        fps = int(match[3]) if match[3] else 30
    return {
        "width": {"ideal": width},
        "height": {"ideal": height},
        "frameRate": {"ideal": fps},
    }


def plural(singular: str, plural: str) -> dict[str, Promise]:
    """A string with a count, in the plural forms of CLDR (``Intl.PluralRules``)
    that the page picks from (static/js/call/format.js ``plural``).

    ``one`` is what ngettext gives for 1 and ``other`` for any other count, so
    a language with one form (Korean) gets the same text twice. Our languages
    need no more categories (``few``, ``many``).
    """
    return {"one": ngettext_lazy(singular, plural, 1), "other": ngettext_lazy(singular, plural, 2)}


# Keys are stable: static/js/call/ looks strings up by these names.
STRINGS: dict[str, Promise | dict[str, Promise]] = {
    # Pre-join
    "prejoinTitle": _("Ready to join?"),
    "join": _("Join now"),
    "joining": _("Joining…"),
    "retry": _("Try again"),
    "cameraPreviewOff": _("Your camera is off"),
    "noCameraAvailable": _("No camera"),
    "permissionDenied": _(
        "Camera and microphone access was blocked. You can still join and see and "
        "hear the others; to be seen or heard, allow access in the browser's address "
        "bar and reload."
    ),
    "noDevices": _(
        "No camera or microphone was found. You can still join to see and hear the others."
    ),
    "noCamera": _("No camera was found. You can join with your microphone only."),
    "noMicrophone": _("No microphone was found. You can join with your camera only."),
    "deviceBusy": _(
        "Your camera or microphone is being used by another program. Close it and try "
        "again, or join without it."
    ),
    "mediaUnsupported": _(
        "This browser cannot use a camera or microphone here. Calls need HTTPS (or "
        "localhost) and a current browser."
    ),
    "webrtcUnsupported": _(
        "This browser does not support video calls. Please use a current browser."
    ),
    "mediaFailed": _("Your camera or microphone could not be started."),
    "cameraFailed": _("The camera could not be started."),
    "screenFailed": _("Screen sharing could not be started."),
    "joinReceiveOnly": _("You will join without camera or microphone."),
    "deviceFallback": _("Device %(n)s"),
    "testSpeaker": _("Test speaker"),
    "testSpeakerPlaying": _("Playing a test sound…"),
    "testSpeakerFailed": _("The test sound could not be played on this speaker."),
    # Call
    "you": _("You"),
    "youSuffix": _("%(name)s (you)"),
    # A guest's name on their tile (static/js/call/ui/grid.js).
    "guestName": _("%(name)s (guest)"),
    "muted": _("Microphone off"),
    "cameraOff": _("Camera off"),
    "sharing": _("Sharing screen"),
    "handRaised": _("Hand raised"),
    "stateConnecting": _("Connecting…"),
    "stateConnected": _("Connected"),
    "stateReconnecting": _("Reconnecting…"),
    "stateFailed": _("Connection failed"),
    "micOn": _("Turn off microphone"),
    "micOff": _("Turn on microphone"),
    "cameraOnLabel": _("Turn off camera"),
    "cameraOffLabel": _("Turn on camera"),
    "shareStart": _("Share screen"),
    "shareStop": _("Stop sharing"),
    "raiseHand": _("Raise hand"),
    "lowerHand": _("Lower hand"),
    "lowerHandShort": _("Lower"),
    "lowerHandOf": _("Lower %(name)s's hand"),
    "handLoweredBy": _("%(name)s lowered your hand."),
    "handsTitle": _("Raised hands"),
    "react": _("Send a reaction"),
    # Keyed by the emoji itself (static/js/call/gestures.js REACTIONS).
    "reactionNames": {
        "👍": _("Thumbs up"),
        "👏": _("Applause"),
        "😂": _("Laughing"),
        "❤️": _("Love"),
        "🎉": _("Celebration"),
        "😮": _("Surprised"),
    },
    "settings": _("Settings"),
    "settingsClose": _("Close settings"),
    "cameraChoiceWhileOff": _(
        "Your camera is off. The camera chosen here is used when you turn it on."
    ),
    "cameraSwitchFailed": _(
        "That camera could not be started. You are still using the previous one."
    ),
    "micSwitchFailed": _(
        "That microphone could not be started. You are still using the previous one."
    ),
    "speakerSwitchFailed": _(
        "Sound cannot be played on that speaker. The previous one is still used."
    ),
    "cameraLost": _("Your camera was disconnected."),
    "micLost": _("Your microphone was disconnected. Choose another one in Settings to be heard."),
    "micReplaced": _("Your microphone was disconnected. Now using: %(name)s"),
    "chatOpen": _("Open chat"),
    "chatClose": _("Close chat"),
    "invite": _("Copy invite link"),
    "inviteCopied": _("Invite link copied. It works for 24 hours."),
    "inviteGuests": _("Copy guest invite link (no account needed)"),
    "inviteGuestsCopied": _(
        "Guest invite link copied: people without an account can join with a name. "
        "It works for 24 hours."
    ),
    "inviteShow": _("Copy this invite link (valid for 24 hours):"),
    "inviteFailed": _("The invite link could not be created."),
    "leave": _("Leave call"),
    "end": _("End meeting for everyone"),
    "endConfirm": _("End the meeting for everyone? Nobody can join until a host reopens the room."),
    "kick": _("Remove %(name)s from the call"),
    "kickConfirm": _("Remove %(name)s from the call? They can join again."),
    # Hosts and the acting host (static/js/call/hosts.js, ui/host-tools.js)
    "muteOne": _("Mute %(name)s"),
    "muteAll": _("Mute everyone"),
    "mutedBy": _("%(name)s muted you. Unmute yourself when you want to speak."),
    "mutedByHost": _("A host muted you. Unmute yourself when you want to speak."),
    "actingHost": _("Acting host"),
    "youAreActingHost": _(
        "No host is in the call: you are the acting host. You can mute and remove people."
    ),
    "actingHostNow": _("No host is in the call: %(name)s is the acting host."),
    "actingHostOver": _("A host is in the call again: you are no longer the acting host."),
    "hostsOnly": _("Only a host can do that."),
    "peerJoined": _("%(name)s joined"),
    "peerLeft": _("%(name)s left"),
    "peerKicked": _("%(name)s was removed from the call"),
    "alone": _("Waiting for others to join…"),
    "enableAudio": _("Click to turn on sound"),
    "relayUnreachable": _(
        "Can't reach the relay server (TURN). The call cannot connect; ask the "
        "administrator to check the TURN settings."
    ),
    "pairFailed": _("Can't reach %(name)s — trying again"),
    "pairFailedHint": _(
        "Your browser and %(name)s's cannot connect right now. Check your network "
        "(Wi-Fi, VPN, firewall), then press Retry. If it still fails, ask %(name)s "
        "to reload the page."
    ),
    "pairRetry": _("Retry"),
    "pairRetryLabel": _("Retry the connection to %(name)s"),
    # Files
    "files": _("Files"),
    "filesHide": _("Hide the file list"),
    "fileSend": _("Send a file"),
    "fileSendTo": _("Send to"),
    "fileEveryone": _("Everyone"),
    "fileChoose": _("Choose a file…"),
    "fileGone": _("%(name)s has left the call; the file was not sent."),
    "fileNotReady": _("The connection to %(name)s is not ready yet; try again in a moment."),
    "fileFrom": _("From %(name)s"),
    "fileTo": _("To %(name)s"),
    "fileSomeone": _("someone who left"),
    "fileProgress": _("Progress of %(name)s"),
    "fileAccept": _("Accept"),
    "fileDecline": _("Decline"),
    "fileCancel": _("Cancel"),
    "fileSave": _("Save"),
    "fileTooLarge": _("That file is too large: files can be at most %(size)s."),
    "fileEmpty": _("That file is empty."),
    "fileNobody": _("Nobody else is here to receive it yet."),
    # Keyed by the transfer's state (static/js/call/files.js).
    "fileStates": {
        "offered": _("Wants to send you this file"),
        "waiting": _("Waiting for them to accept…"),
        "sending": _("Sending…"),
        "receiving": _("Receiving…"),
        "done": _("Done"),
        "declined": _("Declined"),
        "cancelled": _("Cancelled"),
        "failed": _("The transfer failed."),
        "refused": _("Too large to receive (%(size)s)"),
    },
    # Why a transfer failed (static/js/call/file-transfer.js, TransferError).
    "fileErrors": {
        "closed": _("The connection closed before the end."),
        "unreadable": _("The file could not be read."),
        "too-many-bytes": _("They sent more bytes than they offered; the transfer was stopped."),
        "incomplete": _("The file arrived incomplete."),
        "corrupt": _("The file did not arrive intact."),
        "malformed": _("Their browser could not read the offer."),
        "busy": _("They have too many files waiting; try again later."),
    },
    # Chat
    "chat": _("Chat"),
    "chatPlaceholder": _("Message everyone"),
    "chatSend": _("Send"),
    "chatTooLong": plural(
        "Messages can be at most %(n)s character.", "Messages can be at most %(n)s characters."
    ),
    "chatNobody": _("Nobody else is here to read it yet."),
    "chatEmpty": _("No messages yet. Messages go only to the people in the call right now."),
    "chatUnread": plural("%(n)s unread message", "%(n)s unread messages"),
    # Signaling states and close codes
    "reconnecting": _("Reconnecting to the server — your call continues."),
    "reconnected": _("Reconnected."),
    "left": _("You left the call."),
    "rejoin": _("Rejoin"),
    "backToRoom": _("Back to the room"),
    "joinHere": _("Join here"),
    "signIn": _("Sign in"),
    "closedKicked": _("A host removed you from the call."),
    "closedReplaced": _("You joined this call from another tab or device."),
    "closedProtocol": _(
        "The connection was closed because of an error in this page. Reload to try again."
    ),
    "closedLoggedOut": _("You are signed out. Sign in again to join the call."),
    "closedNotMember": _("You are not a member of this room."),
    "closedNoRoom": _("This room does not exist."),
    "closedDenied": _("A host did not let you in."),
    "closedFull": _("The room is full. Try again when someone leaves."),
    "closedTooManySockets": _(
        "This call is open in too many windows or tabs. Close some of them and try again."
    ),
    "closedEnded": _("The meeting has ended."),
    "closedGuestRemoved": _(
        "Your guest access ended: the invite link was revoked. Ask a host for a new link."
    ),
    "closedTooLarge": _("The connection was closed because a message was too large."),
    "closedLocked": _("The room is locked: only hosts can join right now."),
    "closedFlooding": _("The connection was closed because this page sent too many messages."),
    "closedOrigin": _(
        "The call server does not accept connections from this page's address. Open the "
        "meeting from the site's usual address, or ask the administrator to check the "
        "allowed origins (WS_ALLOWED_ORIGINS)."
    ),
    "closedUnknown": _("The connection to the server was closed."),
}

# The lobby (static/js/call/ui/lobby-view.js).
STRINGS.update(
    {
        "lobbyWaiting": _("Waiting for a host to let you in."),
        "lobbyWaitingButton": _("Waiting in the lobby…"),
        "lobbyNoHost": _("Waiting for a host to let you in. No host is in the call yet."),
        "lobbyKnocking": _("Waiting to join"),
        "lobbyAdmit": _("Admit"),
        "lobbyDeny": _("Deny"),
        "lobbyAdmitLabel": _("Admit %(name)s"),
        "lobbyDenyLabel": _("Deny %(name)s"),
        "lobbyAdmitAll": _("Admit all"),
        "lobbyDenyAll": _("Deny all"),
        "lobbyGuest": _("%(name)s (guest)"),
        "lobbyKnock": _("%(name)s wants to join."),
        "lobbyTurnOn": _("Turn the lobby on: people wait until a host lets them in"),
        "lobbyTurnOff": _("Turn the lobby off"),
        "lobbyNowOn": _("The lobby is on: people wait until a host lets them in."),
        "lobbyNowOff": _("The lobby is off: people come straight in."),
    }
)

# Link health of each pair (static/js/call/ui/link-view.js).
STRINGS.update(
    {
        "linkGood": _("Good"),
        "linkWeak": _("Weak"),
        "linkBad": _("Bad"),
        "linkMeasuring": _("Measuring…"),
        # A direction that should flow and does not (static/js/call/silence.js).
        "linkSilent": _("No %(what)s — repairing"),
        "linkMissing": _("They get no %(what)s from you"),
        "silentAudio": _("sound"),
        "silentVideo": _("video"),
        "silentBoth": _("sound or video"),
        "linkBadgeLabel": _("Connection with %(name)s: %(grade)s. Show details"),
        "linkDetailsTitle": _("Connection with %(name)s"),
        "linkDetailsClose": _("Close connection details"),
        "linkQuality": _("Quality"),
        "linkPath": _("Path"),
        "linkRtt": _("Round trip"),
        "linkLoss": _("Packet loss"),
        "linkJitter": _("Jitter"),
        "linkIn": _("Receiving"),
        "linkOut": _("Sending"),
        "linkFps": _("Video received"),
        "linkLimit": _("Our video is limited by"),
        "linkUnknown": _("Not known yet"),
        "pathHost": _("Direct (host)"),
        "pathSrflx": _("Direct through a router (srflx)"),
        "pathRelay": _("Through the relay server (relay)"),
        "limitNone": _("Nothing"),
        "limitBandwidth": _("Bandwidth"),
        "limitCpu": _("Processor"),
        "limitOther": _("Something else"),
        "unitMs": _("%(n)s ms"),
        "unitKbps": _("%(n)s kbit/s"),
        "unitFps": _("%(n)s frames/s"),
    }
)


# The security code and its warning (static/js/call/ui/safety-view.js).
STRINGS.update(
    {
        "safetyButtonLabel": _("Security code (%(status)s)"),
        "safetyAlone": _("No one else is in the call yet."),
        "safetyChecking": _("Checking the connections…"),
        "safetyVerified": _("Both ends of every connection see the same keys."),
        "safetyMismatch": _("The keys of a connection do not match."),
        "safetyWarningPair": _("Connection between %(a)s and %(b)s"),
        "safetyYou": _("you"),
        "safetySomeone": _("someone"),
    }
)


def call_config(
    *,
    request: HttpRequest,
    room: Room,
    membership: Membership | None = None,
    guest: Guest | None = None,
) -> dict[str, Any]:
    """Everything ``static/js/call/main.js`` reads from the ``call-config`` script
    tag, for a member or (without ``membership``) for ``guest``."""
    if membership is not None:
        me = {"name": membership.user.get_display_name(), "host": membership.is_host}
    else:
        assert guest is not None  # noqa: S101  (the view passes one or the other)
        me = {"name": guest.display_name, "host": False, "guest": True}
    return {
        "ws": f"/ws/rooms/{room.slug}/",
        "room": {"code": room.slug, "name": room.name, "max": room.max_participants},
        "me": me,
        "heartbeat": settings.SIGNALING["HEARTBEAT_INTERVAL"],
        "media": {"video": video_constraints(settings.CALL_VIDEO), "audio": True},
        "budget": {
            "videoKbps": settings.CALL_VIDEO_BUDGET_KBPS,
            "perPeerMaxKbps": PER_PEER_VIDEO_MAX_KBPS,
        },
        "chat": {"maxLength": CHAT_MAX_LENGTH, "history": CHAT_HISTORY},
        "files": {"maxBytes": settings.CALL_FILE_MAX_BYTES},
        "urls": {
            "room": room.get_absolute_url() if membership is not None else reverse("rooms:landing"),
            "invite": reverse("rooms:call_invite", kwargs={"slug": room.slug}),
            # Where a socket refused as not signed in (4401) sends the page. A
            # guest goes back to the call page: with their pass ended, it says
            # so and then asks them to sign in.
            "login": (
                f"{reverse('account_login')}?next={room.get_call_url()}"
                if membership is not None
                else room.get_call_url()
            ),
        },
        "csrf": get_token(request),
        "strings": STRINGS,
    }
