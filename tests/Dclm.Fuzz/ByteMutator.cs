using System.Buffers.Binary;

namespace Dclm.Fuzz;

/// <summary>
/// Byte-level mutations, the part of every structure-aware mutator that works on raw bytes: bit flips,
/// interesting integers written over a field, inserted, deleted, duplicated and spliced ranges, truncation and
/// appended garbage. Structure-aware mutators aim these at the bytes that matter (a length, a count, an offset).
/// </summary>
internal static class ByteMutator
{
    /// <summary>Values that sit on the edges parsers get wrong: zero, one, powers of two and their neighbours, sign bits, all ones.</summary>
    public static readonly ulong[] InterestingValues =
    [
        0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 65535, 65536,
        int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1, long.MaxValue, (ulong)long.MaxValue + 1,
        ulong.MaxValue, ulong.MaxValue - 1, ulong.MaxValue - 31, 1UL << 40, 1UL << 62, 100_000_000, 268_435_455, 268_435_456,
    ];

    /// <summary>Applies 1 to 4 random byte-level mutations to a copy of <paramref name="input"/>.</summary>
    public static byte[] Mutate(byte[] input, Random random, byte[]? other = null)
    {
        var bytes = new List<byte>(input);
        int count = random.Next(1, 5);
        for (int i = 0; i < count; i++) MutateOnce(bytes, random, other);
        return [.. bytes];
    }

    private static void MutateOnce(List<byte> bytes, Random random, byte[]? other)
    {
        if (bytes.Count == 0)
        {
            bytes.Add((byte)random.Next(256));
            return;
        }
        int at = random.Next(bytes.Count);
        switch (random.Next(9))
        {
            case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
            case 1: bytes[at] = (byte)random.Next(256); break;
            case 2: WriteInteger(bytes, at, InterestingValues[random.Next(InterestingValues.Length)], random.Next(4) switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 }); break;
            case 3: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16))); break;
            case 4: bytes.InsertRange(at, RandomBytes(random, 1 + random.Next(16))); break;
            case 5:
            {
                int length = Math.Min(bytes.Count - at, 1 + random.Next(64));
                bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                break;
            }
            case 6: bytes.RemoveRange(at, bytes.Count - at); break; // truncate
            case 7: bytes.AddRange(RandomBytes(random, 1 + random.Next(1000))); break; // append garbage
            default:
                if (other is { Length: > 0 })
                {
                    int from = random.Next(other.Length);
                    bytes.InsertRange(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(256))).ToArray());
                }
                break;
        }
    }

    /// <summary>Writes <paramref name="value"/> little-endian over <paramref name="width"/> bytes at <paramref name="at"/>, as far as the bytes reach.</summary>
    public static void WriteInteger(List<byte> bytes, int at, ulong value, int width)
    {
        Span<byte> encoded = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(encoded, value);
        for (int i = 0; i < width && at + i < bytes.Count; i++) bytes[at + i] = encoded[i];
    }

    public static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
