// RFC 0160 §2 "Connection Response" and §3 "Connection Acknowledgement".
//
// Inviter: "They will then either update the provisional connection information to rotate the key, or provision a
// new DID entirely" -- we provision a new DID and key for every connection. The response
//   {"@type": ".../connections/1.0/response", "@id", "~thread": {"thid": <@id of request message>},
//    "connection~sig": {"@type": ".../signature/1.0/ed25519Sha512_single", "signature", "sig_data", "signer"}}
// "is required to be signed as described in RFC 0234 Signature Decorator. The connection attribute above will be
// base64URL encoded and included as part of the sig_data attribute of the signed field." It is signed with the
// invitation's key (the key the invitee trusts already); Misbehaviour.SigningKey lets the harness swap it.
// Response Transmission: "packaged in the wire level format, using the keys from the request, and the new keys
// presented in the internal DID document" (sender = our new key). "When the message is transmitted, we are now in
// the responded state."
//
// Invitee, Response Processing: "they will verify the sig_data provided"; "The signature data must be used to verify
// against the invitation's recipientKeys for continuity." A response that fails either check, names another thread,
// arrives when no request is pending, or carries an unusable DID/DIDDoc is answered with response_not_accepted and
// leaves the record in requested ("The response can be resent after the appropriate corrections have been made").
//
// §3: "The invitee SHOULD send a message to the inviter. As any message will confirm the connection, any message will
// do ... If no message is needed immediately, a trust ping can be used". Auto-accepting invitees send a trust ping
// (as ACA-Py and Credo do); manual ones leave it to the caller (AATH sends the ping as its own step). The invitee is
// complete once a message was sent on the connection (OnMessageSent), the inviter once one was received (OnAnyMessage).
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Signatures;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Connections;

public sealed partial class ConnectionsProtocol
{
    // ------------------------------------------------------------------ inviter

    /// <summary>Inviter: sends the response for a received request. In state responded, sends it again (after a response_not_accepted was fixed).</summary>
    public async Task<ConnectionRecord> AcceptRequestAsync(string connectionId, CancellationToken ct = default)
    {
        var c = Record(connectionId, ConnectionRole.Inviter);
        var resend = c.State == States.Responded;
        if (!resend && c.State != States.Requested)
            throw new InvalidOperationException($"connection {c.Id} is '{c.State}'; a response is sent from '{States.Requested}'");
        var invitationKey = (c.InvitationKey is { } ik ? _agent.Wallet.Find(ik) : null)
                            ?? throw new InvalidOperationException($"connection {c.Id}: the invitation key is not in this agent's wallet, so the response cannot be signed");

        if (c.MyDid == null) await CreateMyDidAsync(c, ct);
        var docUri = DocUriOf(c);
        var connection = new JsonObject { ["DID"] = c.MyDid, ["DIDDoc"] = c.MyDidDoc!.DeepClone() };
        var sig = SignatureDecorator.Sign(connection, _agent.Misbehaviour.SigningKey("response", invitationKey), _agent.Clock.Now());
        if (docUri == DocUris.LegacySov) sig["@type"] = SignatureDecorator.LegacySigType;   // the @type is not signed
        var response = _agent.NewMessage(docUri + Family + "/response")
            .WithThread(c.ThreadId, null)
            .With("connection~sig", sig);

        if (!resend) _agent.Transition(c, States.Responded);   // §2 before the invitee's ack can arrive
        try
        {
            await _agent.Outbound.SendAsync(response, c, ct);
        }
        catch
        {
            if (!resend && c.State == States.Responded) _agent.Transition(c, States.Requested);
            throw;
        }
        return _agent.Store.GetConnection(c.Id) ?? c;
    }

    // ------------------------------------------------------------------ invitee

    private async Task HandleResponseAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var thid = m.Thread?.Thid;
        ConnectionRecord? c = thid == null ? null
            : _agent.Store.FindConnectionByThread(thid, x => x.Protocol == Family && x.Role == ConnectionRole.Invitee);
        // The key the response was encrypted to names the request it should answer, even when its thread does not:
        // that record's invitation service is where a rejection can go.
        var byKey = _agent.Store.FindConnectionByMyVerkey(inbound.RecipientVerkey, x => x.Protocol == Family && x.Role == ConnectionRole.Invitee
                                                    && x.State == States.Requested);
        ProblemReportException NotAccepted(string why) => new(Family, ProblemCodes.ResponseNotAccepted, why, m.ThreadId, m.ParentThreadId, c ?? byKey);

        if (thid == null) throw NotAccepted("a response must carry ~thread.thid, the @id of the request it answers (RFC 0160 §2)");
        if (c == null) throw NotAccepted($"this agent sent no connection request with @id {thid}");
        if (c.State != States.Requested)
            throw NotAccepted($"connection {c.Id} is '{c.State}'; a response is accepted only after a request ('{States.Requested}')");
        if (inbound.RecipientVerkey != c.MyVerkey)
            throw NotAccepted("the response was not encrypted to the key of the request's DID document (RFC 0160 §2 Response Transmission)");

        if (m.Json["connection~sig"] is not JsonObject sigDecorator)
            throw NotAccepted(m.Json.ContainsKey("connection")
                ? "the connection attribute is not signed: RFC 0160 §2 requires connection~sig (RFC 0234)"
                : "connection~sig is missing");
        SignatureVerification verified;
        try { verified = SignatureDecorator.Verify(sigDecorator); }
        catch (SignatureException e) { throw NotAccepted("invalid signature: " + e.Message); }

        // §2: "The signature data must be used to verify against the invitation's recipientKeys for continuity."
        var invitationKeys = new HashSet<string>(c.TheirService?.RecipientKeys ?? []);
        if (c.InvitationKey != null) invitationKeys.Add(c.InvitationKey);
        if (!invitationKeys.Contains(verified.SignerVerkey))
            throw NotAccepted($"connection~sig is signed by {verified.SignerVerkey}, which is not the invitation's key {c.InvitationKey}");

        var their = await ReadConnectionAsync(verified.Value, inbound.SenderVerkey, NotAccepted, ct);

        try
        {
            c.TheirDid = their.Did;
            c.TheirDidDoc = (JsonObject)their.DocJson.DeepClone();
            // §2: "This new DID and endpoint are to be used going forward in the connection."
            c.TheirService = their.Service;
            SetDocUri(c, m.Type.DocUri);
            _agent.Transition(c, States.Responded);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _agent.Debug($"connections: processing response {m.Id} failed: {e}");
            throw new ProblemReportException(Family, ProblemCodes.ResponseProcessingError, "the response could not be processed; resend it as-is", m.ThreadId, m.ParentThreadId, c);
        }

        // §3: "The invitee SHOULD send a message to the inviter." Accepting the invitation was the user's decision;
        // the acknowledgement follows from it in manual mode too (a later explicit ping is harmless).
        try
        {
            await _agent.TrustPing.SendPingAsync(c, "connections/1.0 ack", responseRequested: true, ct);   // §3, completes us on send
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _agent.Debug($"connections: the acknowledging trust ping on {c.Id} could not be sent: {e.Message}");
        }
    }
}
