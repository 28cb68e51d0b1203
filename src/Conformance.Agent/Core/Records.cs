using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Conformance.Agent.Core;

public enum ConnectionRole { Inviter, Invitee }

/// <summary>
/// One connection, readable at every state. <see cref="Protocol"/> says which state vocabulary <see cref="State"/> uses:
/// RFC 0160 (<c>invited, requested, responded, complete</c>, plus <c>null</c>/<c>error</c>) or RFC 0023
/// (<c>start, invitation-sent, invitation-received, request-sent, request-received, response-sent, response-received,
/// completed, abandoned</c>).
/// </summary>
public sealed class ConnectionRecord
{
    [JsonPropertyName("connection_id")] public string Id { get; set; } = "";
    [JsonPropertyName("protocol")] public string Protocol { get; set; } = "";   // "connections/1.0" | "didexchange/1.0" | "didexchange/1.1"
    [JsonPropertyName("role")] public ConnectionRole Role { get; set; }
    [JsonPropertyName("state")] public string State { get; set; } = "";
    [JsonPropertyName("auto_accept")] public bool AutoAccept { get; set; } = true;

    [JsonPropertyName("invitation_id")] public string? InvitationId { get; set; }       // @id of the invitation (explicit) or DID URL (implicit)
    [JsonPropertyName("invitation_key")] public string? InvitationKey { get; set; }     // verkey the invitation named (signs connection~sig / did_doc~attach)
    [JsonPropertyName("invitation")] public JsonObject? Invitation { get; set; }         // the invitation as received/created
    [JsonPropertyName("thread_id")] public string? ThreadId                             // @id of the request
    {
        get => _threadId;
        set { var old = _threadId; _threadId = value; if (old != value) Index?.Moved(this, IndexedField.ThreadId, old, value); }
    }
    [JsonPropertyName("parent_thread_id")] public string? ParentThreadId { get; set; }

    [JsonPropertyName("my_did")] public string? MyDid { get; set; }
    [JsonPropertyName("my_verkey")] public string? MyVerkey
    {
        get => _myVerkey;
        set { var old = _myVerkey; _myVerkey = value; if (old != value) Index?.Moved(this, IndexedField.MyVerkey, old, value); }
    }
    [JsonPropertyName("my_did_doc")] public JsonObject? MyDidDoc { get; set; }
    [JsonPropertyName("their_label")] public string? TheirLabel { get; set; }
    [JsonPropertyName("their_did")] public string? TheirDid { get; set; }
    [JsonPropertyName("their_did_doc")] public JsonObject? TheirDidDoc { get; set; }
    /// <summary>Where to send: recipient keys, routing keys and endpoint of the other side (from invitation first, DID doc later).</summary>
    [JsonPropertyName("their_service")] public ServiceRecord? TheirService { get; set; }

    [JsonPropertyName("mediator_connection_id")] public string? MediatorConnectionId { get; set; }
    [JsonPropertyName("problem_report")] public JsonObject? ProblemReport { get; set; }   // last problem report sent or received on this connection
    [JsonPropertyName("mitm_codes")] public MitmCodes? Mitm { get; set; }
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; set; }
    [JsonPropertyName("updated_at")] public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Every state the record went through, in order (so a test can inspect "every state").</summary>
    [JsonPropertyName("history")] public List<string> History { get; set; } = [];

    private string? _threadId;
    private string? _myVerkey;

    /// <summary>
    /// The store holding this record, told when an indexed field changes (AgentStore keeps connections by my verkey and
    /// by thread, so the inbound pipeline finds a connection without scanning them all). Null until saved.
    /// </summary>
    [JsonIgnore] internal IConnectionIndex? Index { get; set; }

    public void MoveTo(string state, DateTimeOffset now)
    {
        State = state;
        UpdatedAt = now;
        History.Add(state);
    }

    [JsonIgnore] public bool IsActive => State is "complete" or "completed" or "responded" or "response-received" or "response-sent";
}

/// <summary>The fields of a <see cref="ConnectionRecord"/> that the store indexes.</summary>
internal enum IndexedField { MyVerkey, ThreadId }

/// <summary>Keeps an index of connection records current when an indexed field is set.</summary>
internal interface IConnectionIndex
{
    void Moved(ConnectionRecord record, IndexedField field, string? from, string? to);
}

/// <summary>The part of a DIDComm service the sender needs: keys (base58 verkeys), routing keys (as given), endpoint.</summary>
public sealed class ServiceRecord
{
    [JsonPropertyName("recipient_keys")] public List<string> RecipientKeys { get; set; } = [];
    [JsonPropertyName("routing_keys")] public List<string> RoutingKeys { get; set; } = [];
    [JsonPropertyName("endpoint")] public string Endpoint { get; set; } = "";
}

/// <summary>The MITM comparison codes of the Indy HIPE (seed 004): see Connections/MitmCheck.cs.</summary>
public sealed class MitmCodes
{
    [JsonPropertyName("sum")] public string Sum { get; set; } = "";
    [JsonPropertyName("product")] public string Product { get; set; } = "";
}

/// <summary>An out-of-band (RFC 0434) or connections/1.0 invitation this agent created.</summary>
public sealed class InvitationRecord
{
    [JsonPropertyName("invitation_id")] public string Id { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "out-of-band"; // "out-of-band" | "connections" | "public-did"
    [JsonPropertyName("invitation")] public JsonObject Invitation { get; set; } = new();
    [JsonPropertyName("recipient_key")] public string RecipientKey { get; set; } = "";
    [JsonPropertyName("multi_use")] public bool MultiUse { get; set; }
    [JsonPropertyName("used")] public int UseCount { get; set; }
    [JsonPropertyName("expires_at")] public DateTimeOffset? ExpiresAt { get; set; }
    [JsonPropertyName("auto_accept")] public bool? AutoAccept { get; set; }
    [JsonPropertyName("connection_id")] public string? ConnectionId { get; set; }      // first connection made from it
    [JsonPropertyName("handshake_protocols")] public List<string> HandshakeProtocols { get; set; } = [];
    [JsonPropertyName("created_at")] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>RFC 0211 mediation, as mediator or as recipient.</summary>
public sealed class MediationRecord
{
    [JsonPropertyName("connection_id")] public string ConnectionId { get; set; } = "";
    [JsonPropertyName("role")] public string Role { get; set; } = "mediator";   // "mediator" | "recipient"
    [JsonPropertyName("state")] public string State { get; set; } = "";         // request-sent | request-received | granted | denied
    [JsonPropertyName("thread_id")] public string? ThreadId { get; set; }
    [JsonPropertyName("endpoint")] public string? Endpoint { get; set; }
    [JsonPropertyName("routing_keys")] public List<string> RoutingKeys { get; set; } = [];
    [JsonPropertyName("recipient_keys")] public List<string> RecipientKeys { get; set; } = []; // keys registered through keylist-update
}

/// <summary>An envelope held for a recipient key (mediator queue, or return-route queue for an edge agent).</summary>
public sealed record QueuedMessage(long Sequence, string MessageId, string RecipientKey, byte[] Envelope, DateTimeOffset ReceivedAt);
