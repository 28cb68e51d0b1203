using System.Collections.Concurrent;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Mediator;

/// <summary>
/// The keys and endpoints DIDComm v2 needs from a DID, for the self-resolving methods: did:peer:2 (and 0, long-form 4)
/// and did:key. Resolution goes through <see cref="DidPeer.Resolve"/> / <see cref="DidKey.Resolve"/>; results are cached
/// (bounded: the cache is cleared when it reaches <see cref="MaxCached"/> DIDs, so a stream of fresh DIDs cannot grow it
/// without limit). Thread-safe.
/// <list type="bullet">
/// <item>encryption.md: "the sender and recipient keys ... MUST be ... keyAgreement" — <see cref="KeyAgreementKeys"/>
/// and <see cref="SenderKey"/> only return X25519 keys listed under <c>keyAgreement</c>.</item>
/// <item>signature.md / message_structure.md: the signer's kid MUST be an <c>authentication</c> key of the <c>from</c>
/// DID — <see cref="SigningKey"/> only returns Ed25519 keys listed under <c>authentication</c>.</item>
/// </list>
/// Failures are <see cref="DidCommException"/>s: <see cref="ProblemCodes.DidMalformed"/> for a DID that does not parse,
/// <see cref="ProblemCodes.Did"/> for a method this resolver does not support or a document without usable keys.
/// </summary>
public sealed class V2Resolver
{
    public const int MaxCached = 50_000;

    private sealed record Entry(IReadOnlyList<OkpKey> Agreement, IReadOnlyList<OkpKey> Authentication, IReadOnlyList<DidCommService> Services);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);

    /// <summary>The shared instance (resolution is pure: the same DID always gives the same keys).</summary>
    public static V2Resolver Shared { get; } = new();

    public static bool IsSupported(string did) =>
        DidKey.IsDidKey(did) || DidPeer.IsSelfResolving(did);

    /// <summary>The X25519 keyAgreement keys of <paramref name="did"/> (kid = absolute DID URL); at least one.</summary>
    public IReadOnlyList<OkpKey> KeyAgreementKeys(string did)
    {
        var e = Get(did);
        if (e.Agreement.Count == 0) throw new DidCommException(ProblemCodes.Did, $"{Abbrev(did)} has no X25519 keyAgreement key to encrypt to");
        return e.Agreement;
    }

    /// <summary>The public X25519 keyAgreement key named by <paramref name="kid"/> (a DID URL), or null when the DID
    /// resolves but has no such key. An authcrypt <c>skid</c> must name one of these.</summary>
    public OkpKey? SenderKey(string kid) => Find(kid, e => e.Agreement);

    /// <summary>The public Ed25519 authentication key named by <paramref name="kid"/>, or null.</summary>
    public OkpKey? SigningKey(string kid) => Find(kid, e => e.Authentication);

    /// <summary>The DIDCommMessaging services of <paramref name="did"/>, preferred first (may be empty).</summary>
    public IReadOnlyList<DidCommService> Services(string did) => Get(did).Services;

    private OkpKey? Find(string kid, Func<Entry, IReadOnlyList<OkpKey>> pick)
    {
        var hash = kid.IndexOf('#');
        if (hash <= 0) return null;
        var e = Get(kid[..hash]);
        foreach (var k in pick(e))
            if (k.Kid == kid) return k;
        return null;
    }

    private Entry Get(string did)
    {
        if (string.IsNullOrEmpty(did)) throw new DidCommException(ProblemCodes.DidMalformed, "empty DID");
        if (_cache.TryGetValue(did, out var cached)) return cached;
        if (!did.StartsWith("did:", StringComparison.Ordinal))
            throw new DidCommException(ProblemCodes.DidMalformed, $"'{Abbrev(did)}' is not a DID");
        if (!IsSupported(did))
        {
            if (did.StartsWith(DidPeer.Prefix, StringComparison.Ordinal))
            {
                try { DidPeer.NumalgoOf(did); }
                catch (DidException e) { throw new DidCommException(ProblemCodes.DidMalformed, e.Message); }
            }
            throw new DidCommException(ProblemCodes.Did, $"{Abbrev(did)}: only did:peer:2, did:peer:0, long-form did:peer:4 and did:key resolve here");
        }
        DidDocument doc;
        try { doc = DidKey.IsDidKey(did) ? DidKey.Resolve(did) : DidPeer.Resolve(did); }
        catch (DidException e) { throw new DidCommException(ProblemCodes.DidMalformed, e.Message); }

        var agreement = doc.KeyAgreement.Where(m => m.Codec == KeyCodec.X25519Pub)
            .Select(m => new OkpKey(m.Id, OkpKey.X25519Crv, m.PublicKey, null)).ToList();
        var auth = doc.Authentication.Where(m => m.Codec == KeyCodec.Ed25519Pub)
            .Select(m => new OkpKey(m.Id, OkpKey.Ed25519Crv, m.PublicKey, null)).ToList();
        IReadOnlyList<DidCommService> services;
        try { services = doc.DidCommServices().Where(s => s.IsV2).ToList(); }
        catch (DidException) { services = []; }   // a broken service leaves the keys usable (replies then need return_route)
        var entry = new Entry(agreement, auth, services);
        if (_cache.Count >= MaxCached) _cache.Clear();
        _cache[did] = entry;
        return entry;
    }

    internal static string Abbrev(string s) => s.Length > 48 ? s[..48] + "…" : s;
}
