using System.Text.Json.Nodes;
using Conformance.Wire.DidComm2;

namespace Conformance.Mediator;

/// <summary>
/// Routing Protocol 2.0, mediator role (didcomm-v2/routing.md "Mediator Process"; Identus ForwardMessageExecuter).
/// <list type="bullet">
/// <item>"The mediator unpacks (decrypts) the payload of an encrypted forward message and passes on the result (a blob
/// that probably contains a differently encrypted payload) to the recipient": only the outer envelope addressed to the
/// mediator is decrypted; each attachment is stored exactly as attached (base64 decoded, or the raw JSON text) and never
/// opened. An attachment that is not a JWE is refused (pickup 3.0: "The ONLY valid type of attachment for this message
/// is a DIDComm v2 Message in encrypted form"), so plaintext mail never reaches the queue.</item>
/// <item><c>next</c> "REQUIRED. The identifier of the party to send the attached message to" — a DID, or a key (DID URL)
/// "for the last hop of a route"; it must be a recipient_did some client registered with keylist-update (the DID of a
/// DID URL counts), else <see cref="ProblemCodes.NotEnrolled"/> (Identus M4B: "the next DID is not enrolled").</item>
/// <item>Anonymous senders are fine (forwards are normally anoncrypted); replay detection then keys on the message id.</item>
/// <item>"please_ack ... MUST NOT be honored by mediators": it is ignored. <c>delay_milli</c> is not supported and ignored
/// ("The mediator is NOT required to support or implement any of these semantics").</item>
/// <item>The forward's HTTP response (202, empty body) or its return is sent only after the envelope is committed to the
/// queue; then the owner's live WebSocket sessions are offered it.</item>
/// </list>
/// </summary>
internal static class RoutingProtocol
{
    public static async Task<V2Message?> ForwardAsync(MediatorEngine engine, Inbound inbound)
    {
        var m = inbound.Message;
        var next = CoordinateMediationProtocol.Str(m.Body, "next")
            ?? throw new DidCommException(ProblemCodes.Malformed, "forward: body.next is REQUIRED (a string)");
        if (m.Attachments.Count == 0) throw new DidCommException(ProblemCodes.Malformed, "forward: attachments are REQUIRED");

        var recipient = next;
        var owner = engine.Mediation.OwnerOf(next);
        if (owner is null && next.Contains('#'))
        {
            recipient = V2Packer.DidOf(next);
            owner = engine.Mediation.OwnerOf(recipient);
        }
        if (owner is null) throw new DidCommException(ProblemCodes.NotEnrolled, next);

        var envelopes = new ReadOnlyMemory<byte>[m.Attachments.Count];
        for (var i = 0; i < envelopes.Length; i++)
        {
            var bytes = m.Attachments[i].GetBytes()
                ?? throw new DidCommException(ProblemCodes.Malformed, "forward: attachments by reference (links) are not supported; attach the message inline");
            if (V2Packer.Sniff(bytes) is not (EnvelopeKind.Anoncrypt or EnvelopeKind.Authcrypt))
                throw new DidCommException(ProblemCodes.Malformed, $"forward: attachment {i + 1} is not an encrypted DIDComm message ({MediaTypes.Encrypted})");
            envelopes[i] = bytes;
        }

        var stored = await engine.Queue.EnqueueAsync(inbound.ReplayKey, owner, recipient, envelopes, inbound.Ct)
            ?? throw new DidCommException(ProblemCodes.Dejavu, m.Id);
        engine.Counters.CountForwarded(stored.Count);
        engine.Live.Offer(owner, stored);
        return null;
    }
}
