using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Dids;

namespace Conformance.Mediator;

/// <summary>
/// The sender side of Routing Protocol 2.0 (didcomm-v2/routing.md), the part a sender or a test needs to put mail into a
/// mediator:
/// <list type="bullet">
/// <item><c>forward</c>: "next - REQUIRED. The identifier of the party to send the attached message to"; "attachments -
/// REQUIRED. The DIDComm message(s) to send to the party indicated in the next body attribute".</item>
/// <item>"Sender Process to Enable Forwarding", step 4: "loops in reverse order over all items in the routingKeys array
/// ... creates a new plaintext forward message, attaches the current N, and encrypts it for X".</item>
/// <item>"Using a DID as an endpoint": "The keyAgreement keys of the mediator are implicitly prepended to the routingKeys
/// section from the message recipient's DID Document".</item>
/// <item>The <c>please_ack</c> header "SHOULD NOT be included on forward messages": it never is.</item>
/// </list>
/// </summary>
public static class V2Routing
{
    /// <summary>The plaintext <c>forward</c> carrying <paramref name="envelope"/> for <paramref name="next"/>.</summary>
    public static V2Message Forward(string next, ReadOnlySpan<byte> envelope, Entropy entropy, bool attachAsJson = true,
        long? expiresTime = null, IReadOnlyList<string>? to = null)
    {
        if (string.IsNullOrEmpty(next)) throw new ArgumentException("forward: 'next' is required", nameof(next));
        ArgumentNullException.ThrowIfNull(entropy);
        return new V2Message
        {
            Id = entropy.NewUuid(),
            Type = MessageTypes.Forward,
            To = to,
            ExpiresTime = expiresTime,
            Body = new JsonObject { ["next"] = next },
            Attachments = [V2Attachment.ForEnvelope(envelope, entropy.NewUuid(), attachAsJson)],
        };
    }

    /// <summary>
    /// Wraps <paramref name="envelope"/> (already encrypted for <paramref name="next"/>) once per routing key, last key first;
    /// each forward is anoncrypted for its key (a DID URL names one key, a DID all its keyAgreement keys).
    /// </summary>
    public static string WrapInForward(ReadOnlySpan<byte> envelope, string next, IReadOnlyList<string> routingKeys, Entropy entropy,
        ContentAlg enc = ContentAlg.XC20P, V2Resolver? resolver = null, bool attachAsJson = true)
    {
        ArgumentNullException.ThrowIfNull(routingKeys);
        if (routingKeys.Count == 0) throw new ArgumentException("at least one routing key is needed", nameof(routingKeys));
        resolver ??= V2Resolver.Shared;
        var current = envelope.ToArray();
        var hop = next;
        for (var i = routingKeys.Count - 1; i >= 0; i--)
        {
            var key = routingKeys[i];
            var keys = KeysOf(key, resolver);
            var forward = Forward(hop, current, entropy, attachAsJson, to: [V2Packer.DidOf(key)]);
            current = System.Text.Encoding.UTF8.GetBytes(V2Packer.Anoncrypt(forward.ToUtf8(), keys, enc, entropy));
            hop = key;
        }
        return System.Text.Encoding.UTF8.GetString(current);
    }

    /// <summary>
    /// The whole sender process for one recipient: picks the recipient's first DIDCommMessaging service, follows a DID
    /// used as its endpoint, wraps for every routing key and returns where to send the result.
    /// </summary>
    public static (string Endpoint, string Envelope) PrepareForDelivery(ReadOnlySpan<byte> envelope, string recipientDid, Entropy entropy,
        ContentAlg enc = ContentAlg.XC20P, V2Resolver? resolver = null)
    {
        resolver ??= V2Resolver.Shared;
        var service = resolver.Services(recipientDid).FirstOrDefault()
            ?? throw new DidCommException(ProblemCodes.Did, $"{V2Resolver.Abbrev(recipientDid)} has no DIDCommMessaging service");
        var routing = new List<string>(service.RoutingKeys);
        var uri = service.Endpoint;
        if (uri.StartsWith("did:", StringComparison.Ordinal))
        {
            var mediatorDid = V2Packer.DidOf(uri);
            routing.Insert(0, mediatorDid);
            uri = resolver.Services(mediatorDid).FirstOrDefault(s => !s.Endpoint.StartsWith("did:", StringComparison.Ordinal))?.Endpoint
                ?? throw new DidCommException(ProblemCodes.Did, $"the mediator DID {V2Resolver.Abbrev(mediatorDid)} has no URI endpoint");
        }
        var wrapped = routing.Count == 0
            ? System.Text.Encoding.UTF8.GetString(envelope)
            : WrapInForward(envelope, recipientDid, routing, entropy, enc, resolver);
        return (uri, wrapped);
    }

    private static IReadOnlyList<OkpKey> KeysOf(string key, V2Resolver resolver)
    {
        if (key.Contains('#'))
        {
            var k = resolver.SenderKey(key)
                ?? throw new DidCommException(ProblemCodes.Did, $"routing key {V2Resolver.Abbrev(key)} is not an X25519 keyAgreement key of its DID");
            return [k];
        }
        if (!key.StartsWith("did:", StringComparison.Ordinal))
            throw new DidCommException(ProblemCodes.DidMalformed, $"routing key '{V2Resolver.Abbrev(key)}' is neither a DID nor a DID URL");
        return resolver.KeyAgreementKeys(DidKey.IsDidKey(key) ? key : V2Packer.DidOf(key));
    }
}
