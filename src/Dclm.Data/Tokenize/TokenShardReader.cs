using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dclm.Data.Tokenize;

/// <summary>Reads the windows of a tokenized dataset after checking each shard's size and SHA-256 against the manifest.</summary>
public static class TokenShardReader
{
    /// <summary>Every window, shard by shard, in stored (shuffled) order.</summary>
    public static IEnumerable<uint[]> ReadWindows(string directory, bool verifyHashes = true)
    {
        var manifestPath = Path.Combine(directory, "manifest.json");
        var manifest = TokenShardManifest.Load(manifestPath);
        int windowBytes = manifest.WindowLength * 4;
        foreach (var shard in manifest.Shards)
        {
            var path = Path.Combine(directory, shard.File);
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: shard listed in {manifestPath} is missing");
            long expected = shard.Windows * windowBytes;
            if (new FileInfo(path).Length != expected) throw new InvalidDataException($"{path}: {new FileInfo(path).Length} bytes but the manifest says {shard.Windows} windows ({expected} bytes)");
            if (verifyHashes)
            {
                using var hashStream = File.OpenRead(path);
                if (Convert.ToHexStringLower(SHA256.HashData(hashStream)) != shard.Sha256) throw new InvalidDataException($"{path}: SHA-256 does not match the manifest");
            }
            using var stream = File.OpenRead(path);
            var bytes = new byte[windowBytes];
            for (long w = 0; w < shard.Windows; w++)
            {
                stream.ReadExactly(bytes);
                var window = new uint[manifest.WindowLength];
                for (int t = 0; t < window.Length; t++) window[t] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(t * 4));
                yield return window;
            }
        }
    }
}
