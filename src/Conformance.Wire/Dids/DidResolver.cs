using System.Collections.Concurrent;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>A DID method resolver that can be plugged into <see cref="DidResolver"/> (the agent adds did:web).</summary>
public interface IDidResolver
{
    bool CanResolve(string did);

    ValueTask<DidDocument> ResolveAsync(string did, CancellationToken ct = default);
}

/// <summary>
/// The composite resolver. In order:
/// <list type="number">
/// <item>did:key, did:peer:0, did:peer:2 and long-form did:peer:4 resolve from the DID itself (and are remembered,
/// so that the did:peer:3 / short did:peer:4 a peer switches to later resolve too);</item>
/// <item>did:peer:1, did:peer:3 and short did:peer:4 resolve from a remembered document, re-checked against the DID
/// (<see cref="DidPeer.Resolve"/>);</item>
/// <item>any other DID that was remembered (unqualified RFC 0160 DIDs, did:sov from a connections/1.0 DIDDoc);</item>
/// <item>resolvers added with <see cref="Add"/>, first that <see cref="IDidResolver.CanResolve"/>.</item>
/// </list>
/// <see cref="Remember"/> indexes a document by its id, and by an alias only when the alias is cryptographically
/// bound to it (did:peer:2 ↔ did:peer:3, did:peer:4 long ↔ short): a document's own alsoKnownAs claims are never
/// trusted to name it. Unqualified DIDs and their <c>did:sov:</c> twin are the same key. Thread-safe.
/// </summary>
public sealed class DidResolver : IDidResolver
{
    private readonly ConcurrentDictionary<string, DidDocument> _known = new(StringComparer.Ordinal);
    private readonly List<IDidResolver> _plugins = [];
    private readonly Lock _lock = new();

    /// <summary>Adds a resolver for further methods; returns this resolver for chaining.</summary>
    public DidResolver Add(IDidResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        lock (_lock) _plugins.Add(resolver);
        return this;
    }

    /// <summary>
    /// Caches a document learned from the wire (a <c>did_doc~attach</c>, an RFC 0160 <c>DIDDoc</c>). Peer DIDs are
    /// checked against it first (a mismatching did:peer:1 / did:peer:4 document is a <see cref="DidException"/>);
    /// for self-resolving DIDs the document derived from the DID is kept, not the one given.
    /// </summary>
    public DidDocument Remember(DidDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Id.Length == 0) throw new DidException("cannot remember a DID document without an id");
        var did = document.Id;
        var verified = did.StartsWith(DidPeer.Prefix, StringComparison.Ordinal) ? DidPeer.Resolve(did, document)
            : DidKey.IsDidKey(did) ? DidKey.Resolve(did)
            : document;
        Store(verified);
        return verified;
    }

    public bool CanResolve(string did)
    {
        if (string.IsNullOrEmpty(did)) return false;
        var d = DidOf(did);
        if (DidKey.IsDidKey(d) || DidPeer.IsSelfResolving(d) || Lookup(d) is not null) return true;
        lock (_lock) return _plugins.Any(p => p.CanResolve(d));
    }

    public async ValueTask<DidDocument> ResolveAsync(string did, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(did)) throw new DidException("cannot resolve an empty DID");
        var d = DidOf(did);
        if (TryResolveLocally(d) is { } local) return local;
        IDidResolver? plugin;
        lock (_lock) plugin = _plugins.FirstOrDefault(p => p.CanResolve(d));
        if (plugin is not null) return await plugin.ResolveAsync(d, ct).ConfigureAwait(false);
        throw new DidException(d.StartsWith(DidPeer.Prefix, StringComparison.Ordinal)
            ? $"{DidException.Abbrev(d)} is not known: this did:peer form resolves only from a document received with it (did_doc~attach or the long form)"
            : $"no resolver for {DidException.Abbrev(d)} and no document was received for it");
    }

    /// <summary>Resolves with the built-in methods and remembered documents only (no plugin, no I/O).</summary>
    public DidDocument Resolve(string did)
    {
        if (string.IsNullOrEmpty(did)) throw new DidException("cannot resolve an empty DID");
        var d = DidOf(did);
        return TryResolveLocally(d) ?? throw new DidException($"{DidException.Abbrev(d)} is not known to the local resolver");
    }

    /// <summary>
    /// The base58 public key a key reference names: a raw base58 verkey (returned as is), a did:key (with or
    /// without fragment) or a DID URL into a resolvable document (<c>did:peer:2…#key-1</c>).
    /// </summary>
    public async ValueTask<string> ResolveVerkeyAsync(string keyOrReference, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(keyOrReference)) throw new DidException("key reference is empty");
        if (DidKey.IsDidKey(keyOrReference)) return Base58.Encode(DidKey.Parse(keyOrReference).Key);
        if (keyOrReference.StartsWith("did:", StringComparison.Ordinal))
        {
            if (!keyOrReference.Contains('#')) throw new DidException($"{DidException.Abbrev(keyOrReference)} names a DID, not one of its keys (no #fragment)");
            var doc = await ResolveAsync(keyOrReference, ct).ConfigureAwait(false);
            return (doc.FindMethod(keyOrReference) ?? throw new DidException(
                $"{DidException.Abbrev(keyOrReference)} is not a key of its DID document")).Verkey;
        }
        if (!Base58.TryDecode(keyOrReference, out var raw) || raw.Length != 32)
            throw new DidException($"'{DidException.Abbrev(keyOrReference)}' is neither a DID URL nor a base58 32-byte key");
        return keyOrReference;
    }

    /// <summary>The DID of a DID URL: without fragment, query or path ("did:x:y#k" → "did:x:y").</summary>
    public static string DidOf(string didUrl)
    {
        var end = didUrl.IndexOfAny(['#', '?', '/']);
        return end < 0 ? didUrl : didUrl[..end];
    }

    private DidDocument? TryResolveLocally(string did)
    {
        if (DidKey.IsDidKey(did)) return DidKey.Resolve(did);
        if (did.StartsWith(DidPeer.Prefix, StringComparison.Ordinal))
        {
            DidPeer.NumalgoOf(did);   // an unknown numalgo is an error, not "unknown DID"
            if (DidPeer.IsSelfResolving(did))
            {
                if (_known.TryGetValue(did, out var cached) && cached.Id == did) return cached;
                var doc = DidPeer.Resolve(did);
                Store(doc);
                return doc;
            }
            // numalgo 1, 3, short 4: only from a remembered document, re-verified against the DID.
            return DidPeer.Resolve(did, Lookup(did));
        }
        return Lookup(did);
    }

    private DidDocument? Lookup(string did)
    {
        if (_known.TryGetValue(did, out var doc)) return doc;
        var bare = LegacyDidDoc.Unqualify(did);
        if (bare != did && _known.TryGetValue(bare, out doc)) return doc;
        return LegacyDidDoc.IsUnqualifiedDid(did) && _known.TryGetValue("did:sov:" + did, out doc) ? doc : null;
    }

    private void Store(DidDocument doc)
    {
        _known[doc.Id] = doc;
        if (doc.Id.StartsWith(DidPeer.Prefix + "2", StringComparison.Ordinal))
        {
            _known[DidPeer.Numalgo2To3(doc.Id)] = doc;
        }
        else if (doc.Id.StartsWith(DidPeer.Prefix + "4", StringComparison.Ordinal))
        {
            // Bind long and short forms; both resolve to their own contextualized document.
            var shortDid = DidPeer.Numalgo4Short(doc.Id);
            if (shortDid != doc.Id) _known[shortDid] = doc;
            else foreach (var aka in doc.AlsoKnownAs.Where(a => a.StartsWith(shortDid + ":", StringComparison.Ordinal))) _known[aka] = doc;
        }
    }
}
