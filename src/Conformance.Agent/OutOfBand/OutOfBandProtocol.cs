// Aries RFC 0434 out-of-band 1.1 (shared/specs/aries-rfcs/0434-outofband/README.md).
//
// Roles (§Roles): the *sender* (inviter) makes an invitation and publishes it out of band; the *receiver* answers
// with a message of another protocol: a handshake (RFC 0023 didexchange, RFC 0160 connections), a reply to one of
// the requests~attach messages, or a handshake-reuse on a connection it already has. This protocol's own messages
// are the invitation and the two reuse messages (plus the adopted problem_report).
//
// States (§States Reference). Sender: initial -> await-response -> done ("if the out-of-band message was intended to
// be available to many receivers (a multiple use message), the sender returns to the await-response state"). Here:
// an InvitationRecord in the store is await-response; a single-use one with UseCount > 0 is done. Receiver:
// prepare-response -> done; nothing is stored for it beyond what the co-protocol stores (the connection record).
//
// Where things are:
//   OutOfBandProtocol.cs  this file: the message handler, ClaimInvitation / RecordReuse (sender bookkeeping)
//   Sender.cs             CreateInvitationAsync, and the sender's side of handshake-reuse
//   Receiver.cs           ReceiveInvitationAsync: negotiation, reuse, requests~attach (connectionless / ephemeral mode)
//   OobInvitation.cs      reading and validating a received invitation, resolving its services
//
// Expiry: RFC 0434 defines no expiry field on the invitation. ExpiresAt is kept in the InvitationRecord only (not on
// the wire); a handshake request or reuse that names an expired invitation is refused (RFC 0023 §Request Errors lists
// "Expired Invitation" under request_not_accepted; RFC 0434 §Errors' example code is "expired-invitation").
//
// Problem codes used in the out-of-band family (RFC 0434 defines the message, not a code list):
//   invitation-not-found            a reuse/complete names an invitation this agent did not issue ("No invitation found for reuse")
//   expired-invitation              RFC 0434 §Errors example
//   invitation-already-used         single-use invitation answered twice (§Adoption Messages: "attempting to reuse a single-use invitation")
//   no_existing_connection          handshake-reuse not on a connection (ACA-Py's OOB ProblemReportReason)
//   existing_connection_not_active  handshake-reuse on a connection not yet established (ACA-Py's OOB ProblemReportReason)
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;

namespace Conformance.Agent.OutOfBand;

/// <summary>What to put in an out-of-band invitation this agent creates.</summary>
public sealed class OobInvitationOptions
{
    /// <summary>Handshake protocols in order of preference, e.g. "https://didcomm.org/didexchange/1.1".</summary>
    public List<string> HandshakeProtocols { get; set; } = ["https://didcomm.org/didexchange/1.1"];
    /// <summary>Plaintext messages for requests~attach (connectionless or "connect then answer").</summary>
    public List<JsonObject> Attachments { get; set; } = [];
    public string? GoalCode { get; set; }
    public string? Goal { get; set; }
    public List<string> Accept { get; set; } = ["didcomm/aip1", "didcomm/aip2;env=rfc19"];
    public bool MultiUse { get; set; }
    /// <summary>Kept in the record only: RFC 0434 has no expiry field on the wire. Claims after it are refused.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
    public bool? AutoAccept { get; set; }
    public string? Label { get; set; }
    /// <summary>Put the agent's public DID in services instead of an inline service block.</summary>
    public bool UsePublicDid { get; set; }
    /// <summary>Route through the mediator of this connection (its endpoint and routing keys go into the service).</summary>
    public string? MediatorConnectionId { get; set; }
    /// <summary>Reuse this invitation key (so that handshake reuse can recognise the inviter), instead of a new one.</summary>
    public string? RecipientKey { get; set; }
    /// <summary>
    /// The @id of an earlier out-of-band invitation of this agent whose <c>services</c> the new invitation names again
    /// (the same inline block: recipient key, endpoint, routing keys; or the same DID), so that a receiver connected
    /// through the earlier one can recognise the inviter and reuse the connection. RFC 0434 §Reuse Messages: "if a
    /// connection they have was created from an out-of-band invitation from the same services DID of a new invitation
    /// message, the connection MAY be reused", and an inline block stands for the did:peer:2 of its key and endpoint.
    /// </summary>
    public string? SameServicesAs { get; set; }
    /// <summary>Service block recipient keys as did:key (RFC 0434 1.1 style) or raw base58 (older agents).</summary>
    public bool DidKeyRecipientKeys { get; set; } = true;
}

/// <summary>How to respond to a received out-of-band invitation.</summary>
public sealed class OobReceiveOptions
{
    public bool UseExistingConnection { get; set; }
    /// <summary>"handshake-reuse" (RFC 0434 messages) or "complete" (the 0023-draft style: a didexchange complete with pthid on the existing connection).</summary>
    public string ReuseStyle { get; set; } = "handshake-reuse";
    public bool? AutoAccept { get; set; }
    public string? Label { get; set; }
    public string? MediatorConnectionId { get; set; }
    /// <summary>Override the negotiation with this handshake protocol URI (harness use); null = first one of the invitation's list we support.</summary>
    public string? PreferredHandshake { get; set; }
    /// <summary>
    /// How long to wait for handshake-reuse-accepted. Null = don't wait (the result says "reuse-sent"; the
    /// <see cref="AgentEvent.ReuseAccepted"/> event follows). With a wait, a reuse that is refused or not answered in
    /// time falls back to a new handshake, as RFC 0434 suggests: "If this message is not received by the invitee,
    /// they should use the regular process."
    /// </summary>
    public TimeSpan? ReuseAcceptTimeout { get; set; }
}

/// <summary>
/// What receiving an invitation did. <see cref="State"/>: the new connection's state after a handshake started;
/// "reuse-sent" / "reuse-accepted" (handshake-reuse), "reuse-complete-sent" (0023-draft complete), or "done"
/// (a requests~attach message answered, connectionless or on the reused connection).
/// </summary>
public sealed record OobReceiveResult(ConnectionRecord? Connection, bool Reused, string State, InvitationRecord? Invitation = null);

/// <summary>RFC 0434 out-of-band 1.1: invitations (both roles), handshake reuse, connectionless requests~attach.</summary>
public sealed partial class OutOfBandProtocol(ReferenceAgent agent) : IProtocolHandler
{
    public const string Family = "out-of-band/1.1";
    public const string InvitationType = DocUris.DidCommOrg + Family + "/invitation";
    public const string ReuseName = "handshake-reuse";
    public const string ReuseAcceptedName = "handshake-reuse-accepted";

    private readonly ReferenceAgent _agent = agent;
    /// <summary>Serialises claims, so a single-use invitation is consumed exactly once under concurrent requests.</summary>
    private readonly Lock _claimGate = new();
    /// <summary>handshake-reuse messages we sent and await an answer to, by their @id (= thid of the answer).</summary>
    private readonly ConcurrentDictionary<string, PendingReuse> _pendingReuses = new();

    private sealed class PendingReuse(string invitationId, string connectionId)
    {
        public string InvitationId { get; } = invitationId;
        public string ConnectionId { get; } = connectionId;
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public bool Handles(MessageType type) => type.Protocol == OobInvitation.ProtocolName && type.Major == 1;

    public async Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        switch (m.Type.Name)
        {
            case ReuseName:
                await OnHandshakeReuseAsync(inbound, ct);
                break;
            case ReuseAcceptedName:
                OnHandshakeReuseAccepted(inbound);
                break;
            case "problem_report" or "problem-report":
                OnProblemReport(inbound);
                break;
            case "invitation":
                // "Since there is no DIDComm connection to use for the messages of this protocol, the messages are
                // plaintext and sent out-of-band" - an invitation inside an envelope is not something to act on.
                throw new ProblemReportException(FamilyOf(m.Type), "unsupported-message-type",
                    "an out-of-band invitation is passed out of band (URL, QR code, plaintext), not sent as a DIDComm message", m.ThreadId);
            default:
                throw new ProblemReportException(FamilyOf(m.Type), "unsupported-message-type",
                    $"out-of-band has no message '{OobJson.Excerpt(m.Type.Name, 40)}'", m.ThreadId);
        }
    }

    /// <summary>"out-of-band/1.1" for a 1.1 message, "out-of-band/1.0" for a 1.0 one: answers go in the version asked.</summary>
    private static string FamilyOf(MessageType t) =>
        $"{t.Protocol}/{t.Major.ToString(CultureInfo.InvariantCulture)}.{t.Minor.ToString(CultureInfo.InvariantCulture)}";

    // ------------------------------------------------------------------ sender bookkeeping: claims

    private enum ClaimFailure { None, Missing, Unknown, Expired, Used, NotOffered }

    /// <summary>
    /// Called by a handshake protocol when a request names <paramref name="pthid"/>: checks the invitation exists, is not
    /// expired and (single-use) not consumed, and counts the use. Throws <see cref="ProblemReportException"/> in
    /// <paramref name="family"/> otherwise (code <c>request_not_accepted</c>, RFC 0160 / RFC 0023 §Request Errors:
    /// "Expired Invitation", "Missing reference to invitation"), threaded to <paramref name="requestId"/>.
    /// </summary>
    public InvitationRecord ClaimInvitation(string pthid, string family, string requestId, ServiceRecord? replyTo)
    {
        var (record, failure) = TryClaim(pthid, family);
        if (failure == ClaimFailure.None) return record!;
        var explain = failure switch
        {
            ClaimFailure.Missing => "missing reference to invitation: the request has no ~thread.pthid",
            ClaimFailure.Unknown => $"missing reference to invitation: no invitation '{OobJson.Excerpt(pthid)}' was issued by this agent",
            ClaimFailure.Expired => $"expired invitation: {OobJson.Excerpt(pthid)} expired at {record!.ExpiresAt:O}",
            ClaimFailure.Used => $"invitation {OobJson.Excerpt(pthid)} is single-use and has already been used",
            _ => $"invitation {OobJson.Excerpt(pthid)} did not offer {family} (offered: {string.Join(", ", record!.HandshakeProtocols)})",
        };
        throw new ProblemReportException(family, "request_not_accepted", explain, requestId, string.IsNullOrEmpty(pthid) ? null : pthid) { ReplyTo = replyTo };
    }

    /// <summary>
    /// The 0023-draft reuse ("A complete message is sent, including the pthid used to maintain context"): the
    /// didexchange <c>complete</c> handler calls this on the inviter's side when a complete with
    /// <c>pthid</c> = <paramref name="invitationId"/> arrives on <paramref name="existing"/> outside any exchange.
    /// Marks the invitation answered by that connection (counts as a use; a multi-use invitation stays open) and emits
    /// <see cref="AgentEvent.ReuseAccepted"/> (thread = the invitation id). Throws <see cref="ProblemReportException"/>
    /// (out-of-band family) if the invitation is unknown, expired or used up.
    /// </summary>
    public void RecordReuse(ConnectionRecord existing, string invitationId)
    {
        ArgumentNullException.ThrowIfNull(existing);
        var (record, failure) = TryClaim(invitationId, null);
        if (failure != ClaimFailure.None)
        {
            var (code, explain) = ReuseFailure(failure, invitationId, record);
            throw new ProblemReportException(Family, code, explain, null, invitationId, existing);
        }
        NoteAnsweredBy(record!, existing);
        _agent.Emit(new AgentEvent(AgentEvent.ReuseAccepted, existing.Id, invitationId));
    }

    private static (string Code, string Explain) ReuseFailure(ClaimFailure f, string? pthid, InvitationRecord? r) => f switch
    {
        ClaimFailure.Missing => ("invitation-not-found", "No invitation found for reuse: the message has no ~thread.pthid naming the invitation"),
        ClaimFailure.Unknown => ("invitation-not-found", $"No invitation found for reuse: '{OobJson.Excerpt(pthid)}' was not issued by this agent"),
        ClaimFailure.Expired => ("expired-invitation", $"The invitation has expired ({OobJson.Excerpt(pthid)}, at {r!.ExpiresAt:O})"),
        _ => ("invitation-already-used", $"invitation {OobJson.Excerpt(pthid)} is single-use and has already been used"),
    };

    /// <summary>Records that <paramref name="c"/> answered <paramref name="r"/> (the first connection is kept).</summary>
    private void NoteAnsweredBy(InvitationRecord r, ConnectionRecord c)
    {
        lock (_claimGate)
        {
            r.ConnectionId ??= c.Id;
            _agent.Store.Save(r);
        }
    }

    private (InvitationRecord? Record, ClaimFailure Failure) TryClaim(string? pthid, string? handshakeFamily)
    {
        if (string.IsNullOrEmpty(pthid)) return (null, ClaimFailure.Missing);
        lock (_claimGate)
        {
            var record = _agent.Store.GetInvitation(pthid) ?? ImplicitInvitation(pthid);
            if (record == null) return (null, ClaimFailure.Unknown);
            if (record.ExpiresAt is { } expires && _agent.Clock.Now() >= expires) return (record, ClaimFailure.Expired);
            // "handshake_protocols - ... protocols ... that the receiver can use in responding": a request in a
            // protocol the invitation did not offer is refused (same protocol and major version; minor may differ,
            // RFC 0003 semver - Credo answers a didexchange/1.0 invitation with 1.1 messages).
            if (handshakeFamily != null && record.Kind == "out-of-band" && !Offers(record, handshakeFamily))
                return (record, ClaimFailure.NotOffered);
            // §States: a single-use message goes to done after one response; multi-use returns to await-response.
            if (!record.MultiUse && record.UseCount > 0) return (record, ClaimFailure.Used);
            record.UseCount++;
            _agent.Store.Save(record);
            return (record, ClaimFailure.None);
        }
    }

    private static bool Offers(InvitationRecord r, string family)
    {
        if (!MessageType.TryParse(DocUris.DidCommOrg + family.Trim('/') + "/x", out var asked)) return false;
        return r.HandshakeProtocols.Any(p => MessageType.TryParse(p + "/x", out var offered) && offered.IsSameProtocolFamily(asked));
    }

    /// <summary>
    /// RFC 0434 §Flow Overview: "Any Published DID that expresses support for DIDComm ... serves as an implicit
    /// invitation." A request whose pthid is our public DID (or a DID URL into it) claims this standing, multi-use
    /// invitation; a record is made for it on first use so its uses are counted like any other.
    /// </summary>
    private InvitationRecord? ImplicitInvitation(string pthid)
    {
        if (_agent.PublicDid is not { } pd || !pthid.StartsWith("did:", StringComparison.Ordinal) || DidResolver.DidOf(pthid) != pd.Did)
            return null;
        var record = new InvitationRecord
        {
            Id = pthid,
            Kind = "public-did",
            Invitation = new JsonObject { ["services"] = new JsonArray(pd.Did) },
            RecipientKey = pd.Verkey,
            MultiUse = true,
            CreatedAt = _agent.Clock.Now(),
        };
        _agent.Store.Save(record);
        return record;
    }

    // ------------------------------------------------------------------ problem_report (adopted, §Adoption Messages)

    /// <summary>
    /// "The problem_report message MAY be adopted by the out-of-band protocol": a report in this family is kept on its
    /// connection and announced; one answering a handshake-reuse of ours ends that reuse as refused.
    /// </summary>
    private void OnProblemReport(InboundMessage inbound)
    {
        _agent.ProblemReports.Record(inbound);
        if (inbound.Message.Thread?.Thid is { } thid && _pendingReuses.TryRemove(thid, out var pending))
        {
            _agent.Debug($"handshake-reuse {thid} for invitation {pending.InvitationId} refused: {Conformance.Agent.ProblemReport.ProblemReports.CodeOf(inbound.Message.Json)}");
            pending.Done.TrySetResult(false);
        }
    }
}
