using System.Collections.Concurrent;
using Conformance.Agent.Storage;
using Conformance.Wire.Crypto;

namespace Conformance.Agent.Core;

/// <summary>
/// The agent's Ed25519 keys, by verkey. Keys come from the agent's <see cref="Entropy"/> (so a seed fixes them) and
/// their seeds are kept in the <see cref="AgentStore"/> (so a restarted agent on the same SQLite file still holds them).
/// </summary>
public sealed class Wallet
{
    private readonly ConcurrentDictionary<string, Ed25519KeyPair> _keys = new();
    private readonly AgentStore _store;
    private readonly Entropy _entropy;

    public Wallet(AgentStore store, Entropy entropy)
    {
        _store = store;
        _entropy = entropy;
        foreach (var (verkey, seed) in store.KeySeeds())
            _keys[verkey] = Ed25519KeyPair.FromSeed(seed);
    }

    public Ed25519KeyPair CreateKey()
    {
        var seed = _entropy.Bytes(32);
        var kp = Ed25519KeyPair.FromSeed(seed);
        _keys[kp.Verkey] = kp;
        _store.SaveKeySeed(kp.Verkey, seed);
        return kp;
    }

    public Ed25519KeyPair? Find(string verkey) => _keys.GetValueOrDefault(verkey);

    public bool Holds(string verkey) => _keys.ContainsKey(verkey);

    public Ed25519KeyPair Get(string verkey) =>
        Find(verkey) ?? throw new InvalidOperationException($"this agent holds no key {verkey}");
}
