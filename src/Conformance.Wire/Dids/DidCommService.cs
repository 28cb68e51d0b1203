namespace Conformance.Wire.Dids;

/// <summary>
/// One DIDComm endpoint of a DID document, the same shape whichever service flavour declared it
/// (see <see cref="DidDocument.DidCommServices"/>):
/// <list type="bullet">
/// <item><c>IndyAgent</c> — RFC 0160 legacy DIDDoc (raw base58 <c>recipientKeys</c>);</item>
/// <item><c>did-communication</c> — RFC 0067 (DIDComm v1; keys as DID URL references, did:key or base58);</item>
/// <item><c>DIDCommMessaging</c> — DIDComm v2 (<c>serviceEndpoint: {uri, accept, routingKeys}</c>; the recipient
/// keys are the document's X25519 <c>keyAgreement</c> keys).</item>
/// </list>
/// </summary>
/// <param name="Id">The service id, made absolute (<c>did#service</c>) when it was relative.</param>
/// <param name="Type">The service type as declared.</param>
/// <param name="Endpoint">The serviceEndpoint URI (for v2, <c>serviceEndpoint.uri</c>); may itself be a DID URL (RFC 0067).</param>
/// <param name="RecipientKeys">Resolved recipient keys as base58 public keys (Ed25519 verkeys for v1; X25519 for v2).</param>
/// <param name="RoutingKeys">Routing keys exactly as given: did:key, DID URL or base58 verkey, most destward first.</param>
/// <param name="Accept">The accepted media types / profiles, empty when not stated.</param>
/// <param name="Priority">RFC 0067 priority (default 0); lower is preferred.</param>
public sealed record DidCommService(
    string Id,
    string Type,
    string Endpoint,
    IReadOnlyList<string> RecipientKeys,
    IReadOnlyList<string> RoutingKeys,
    IReadOnlyList<string> Accept,
    int Priority)
{
    public const string IndyAgent = "IndyAgent";
    public const string DidCommunication = "did-communication";
    public const string DidCommMessaging = "DIDCommMessaging";

    /// <summary>True for the DIDComm v2 service type.</summary>
    public bool IsV2 => Type == DidCommMessaging;

    public bool Equals(DidCommService? other) =>
        other is not null && Id == other.Id && Type == other.Type && Endpoint == other.Endpoint &&
        RecipientKeys.SequenceEqual(other.RecipientKeys) && RoutingKeys.SequenceEqual(other.RoutingKeys) &&
        Accept.SequenceEqual(other.Accept) && Priority == other.Priority;

    public override int GetHashCode() => HashCode.Combine(Id, Type, Endpoint, Priority);

    public override string ToString() =>
        $"{Type} {Endpoint} (priority {Priority}, recipients [{string.Join(", ", RecipientKeys)}], routing [{string.Join(", ", RoutingKeys)}])";
}
