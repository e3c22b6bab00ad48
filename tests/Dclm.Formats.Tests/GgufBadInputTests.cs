using System.Text;
using Dclm.Formats.Gguf;

namespace Dclm.Formats.Tests;

/// <summary>
/// Corrupt and lying GGUF files, built byte by byte here (not with GgufWriter) so that every field can lie.
/// Each must fail with a ModelFileException naming the file and the problem, without a large allocation.
/// </summary>
public class GgufBadInputTests
{
    private static readonly Func<string, IDisposable> Open = path => GgufFile.Open(path);

    /// <summary>Little-endian byte builder for hand-made files.</summary>
    private sealed class Raw
    {
        private readonly MemoryStream bytes = new();
        public Raw U32(uint value) { bytes.Write(BitConverter.GetBytes(value)); return this; }
        public Raw U64(ulong value) { bytes.Write(BitConverter.GetBytes(value)); return this; }
        public Raw Byte(byte value) { bytes.WriteByte(value); return this; }
        public Raw Str(string text) { byte[] utf8 = Encoding.UTF8.GetBytes(text); U64((ulong)utf8.Length); bytes.Write(utf8); return this; }
        public Raw Zeros(long count) { bytes.Write(new byte[count]); return this; }
        public Raw Align(int alignment) => Zeros((alignment - bytes.Length % alignment) % alignment);
        public byte[] ToArray() => bytes.ToArray();
    }

    private static Action<Raw> StringKv(string key, string value) => raw => raw.Str(key).U32(8).Str(value);

    private static Action<Raw> Info(string name, ulong[] ne, uint type, ulong offset) => raw =>
    {
        raw.Str(name).U32((uint)ne.Length);
        foreach (ulong size in ne) raw.U64(size);
        raw.U32(type).U64(offset);
    };

    /// <summary>
    /// A valid file by default: one string kv and two F32 tensors "a" [2, 4] (32 bytes, offset 0) and
    /// "b" [4] (16 bytes, offset 32). Every part can be replaced to lie.
    /// </summary>
    private static byte[] Build(
        uint version = 3, ulong? tensorCount = null, ulong? kvCount = null,
        Action<Raw>[]? kvs = null, Action<Raw>[]? infos = null, long dataBytes = 64, int alignment = 32)
    {
        kvs ??= [StringKv("general.architecture", "llama")];
        infos ??= [Info("a", [4, 2], 0, 0), Info("b", [4], 0, 32)];
        var raw = new Raw().U32(0x46554747).U32(version).U64(tensorCount ?? (ulong)infos.Length).U64(kvCount ?? (ulong)kvs.Length);
        foreach (Action<Raw> kv in kvs) kv(raw);
        foreach (Action<Raw> info in infos) info(raw);
        return raw.Align(alignment).Zeros(dataBytes).ToArray();
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "valid", "" },
        { "version 1", "GGUF version 1 is not supported" },
        { "version 4", "GGUF version 4 is not supported" },
        { "tensor count 2^60", "tensor count 1152921504606846976 cannot fit" },
        { "tensor count one too many", "tensor count 3 cannot fit in the" },
        { "metadata count 2^62", "metadata count 4611686018427387904 cannot fit" },
        { "key length lies", "string length 1000000000000 at offset 24 runs past the end of the file" },
        { "string value length lies", "metadata 'general.architecture': string length 18446744073709551615" },
        { "array length lies", "metadata 'v': array length 1099511627776 of float32 cannot fit" },
        { "string array length lies", "metadata 'v': array length 4611686018427387904 of string cannot fit" },
        { "string in array lies", "metadata 'v': string length 999999 " },
        { "unknown value type", "metadata 'v' has unknown value type 13" },
        { "unknown array element type", "metadata 'v': array has unknown element type 99" },
        { "arrays nested too deep", "metadata 'v': arrays nested deeper than 8" },
        { "bool is 2", "metadata 'v': bool byte is 2, expected 0 or 1" },
        { "duplicate key", "metadata key 'general.architecture' appears twice" },
        { "alignment not a power of two", "general.alignment is 48 (uint32), expected a power of two" },
        { "alignment is a string", "general.alignment is \"x\" (string), expected a power of two" },
        { "five dimensions", "tensor 'a' has 5 dimensions, expected 1 to 4" },
        { "zero dimensions", "tensor 'a' has 0 dimensions" },
        { "zero size", "tensor 'a' dimension 1 is 0, expected a positive size" },
        { "dimension above int64", "tensor 'a' dimension 0 is -1, expected a positive size" },
        { "element count overflows", "tensor 'a' has more elements than fit in 64 bits" },
        { "unknown ggml type", "tensor 'a' has unknown ggml type 4" },
        { "type beyond the enum", "tensor 'a' has unknown ggml type 1000" },
        { "q8_0 row not whole blocks", "tensor 'a' rows of 4 elements are not a whole number of q8_0 blocks of 32" },
        { "empty tensor name", "tensor info 0 has an empty name" },
        { "duplicate tensor name", "tensor name 'a' appears twice" },
        { "offset out of bounds", "tensor 'b' data [" },
        { "offset near 2^64", "tensor 'b' data [" },
        { "data truncated", "tensor 'b' data [192, 208) lies outside the file (size 200)" },
        { "offsets overlap", "tensor 'b' data starts at offset 0, expected 32: tensor data must follow in table order" },
        { "offsets out of table order", "tensor 'b' data starts at offset 32, expected 0" },
        { "gap between tensors", "tensor 'b' data starts at offset 64, expected 32" },
        { "first tensor not at the start", "tensor 'a' data starts at offset 32, expected 0" },
        { "bytes after the last tensor", "1000 bytes follow the end of the tensor data at offset 224" },
        { "offset misaligned", "tensor 'b' offset 36 is not a multiple of the alignment 32" },
        { "not gguf", "not a GGUF file" },
    };

    internal static byte[] Make(string name) => name switch
    {
        "valid" => Build(),
        "version 1" => Build(version: 1),
        "version 4" => Build(version: 4),
        "tensor count 2^60" => Build(tensorCount: 1UL << 60),
        "tensor count one too many" => Build(tensorCount: 3, dataBytes: 0),
        "metadata count 2^62" => Build(kvCount: 1UL << 62),
        "key length lies" => Build(kvs: [raw => raw.U64(1_000_000_000_000).U32(8)]),
        "string value length lies" => Build(kvs: [raw => raw.Str("general.architecture").U32(8).U64(ulong.MaxValue)]),
        "array length lies" => Build(kvs: [raw => raw.Str("v").U32(9).U32(6).U64(1UL << 40)]),
        "string array length lies" => Build(kvs: [raw => raw.Str("v").U32(9).U32(8).U64(1UL << 62)]),
        "string in array lies" => Build(kvs: [raw => raw.Str("v").U32(9).U32(8).U64(2).Str("ok").U64(999_999)]),
        "unknown value type" => Build(kvs: [raw => raw.Str("v").U32(13).U32(0)]),
        "unknown array element type" => Build(kvs: [raw => raw.Str("v").U32(9).U32(99).U64(1)]),
        "arrays nested too deep" => Build(kvs: [raw => { raw.Str("v").U32(9); for (int depth = 0; depth < 20; depth++) raw.U32(9).U64(1); raw.U32(0).U64(0); }]),
        "bool is 2" => Build(kvs: [raw => raw.Str("v").U32(7).Byte(2)]),
        "duplicate key" => Build(kvs: [StringKv("general.architecture", "llama"), StringKv("general.architecture", "gpt2")]),
        "alignment not a power of two" => Build(kvs: [raw => raw.Str("general.alignment").U32(4).U32(48)]),
        "alignment is a string" => Build(kvs: [StringKv("general.alignment", "x")]),
        "five dimensions" => Build(infos: [Info("a", [1, 1, 1, 1, 8], 0, 0), Info("b", [4], 0, 32)]),
        "zero dimensions" => Build(infos: [Info("a", [], 0, 0), Info("b", [4], 0, 32)]),
        "zero size" => Build(infos: [Info("a", [4, 0], 0, 0), Info("b", [4], 0, 32)]),
        "dimension above int64" => Build(infos: [Info("a", [ulong.MaxValue, 2], 0, 0), Info("b", [4], 0, 32)]),
        "element count overflows" => Build(infos: [Info("a", [1UL << 32, 1UL << 32], 0, 0), Info("b", [4], 0, 32)]),
        "unknown ggml type" => Build(infos: [Info("a", [4, 2], 4, 0), Info("b", [4], 0, 32)]),
        "type beyond the enum" => Build(infos: [Info("a", [4, 2], 1000, 0), Info("b", [4], 0, 32)]),
        "q8_0 row not whole blocks" => Build(infos: [Info("a", [4, 2], 8, 0), Info("b", [4], 0, 32)]),
        "empty tensor name" => Build(infos: [Info("", [4, 2], 0, 0), Info("b", [4], 0, 32)]),
        "duplicate tensor name" => Build(infos: [Info("a", [4, 2], 0, 0), Info("a", [4], 0, 32)]),
        "offset out of bounds" => Build(infos: [Info("a", [4, 2], 0, 0), Info("b", [4], 0, 1UL << 40)]),
        "offset near 2^64" => Build(infos: [Info("a", [4, 2], 0, 0), Info("b", [4], 0, ulong.MaxValue - 31)]),
        "data truncated" => Build(dataBytes: 40),
        "offsets overlap" => Build(infos: [Info("a", [4, 2], 0, 0), Info("b", [4], 0, 0)]),
        "offsets out of table order" => Build(infos: [Info("b", [4], 0, 32), Info("a", [4, 2], 0, 0)]),
        "gap between tensors" => Build(infos: [Info("a", [4, 2], 0, 0), Info("b", [4], 0, 64)], dataBytes: 96),
        "first tensor not at the start" => Build(infos: [Info("a", [4, 2], 0, 32), Info("b", [4], 0, 64)], dataBytes: 96),
        "bytes after the last tensor" => [.. Build(), .. new byte[1000]],
        "offset misaligned" => Build(infos: [Info("a", [4, 2], 0, 0), Info("b", [4], 0, 36)]),
        "not gguf" => Encoding.ASCII.GetBytes("PK\x03\x04 a zip file, say, with enough bytes"),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LyingFilesFailWithANamedProblem(string name, string fragment)
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.gguf");
        byte[] bytes = Make(name);
        if (fragment.Length == 0)
        {
            File.WriteAllBytes(path, bytes);
            Assert.Null(BadInput.TryOpen(path, Open));
            return;
        }
        BadInput.Expect(path, bytes, Open, fragment);
    }

    [Fact]
    public void EveryTruncationOfTheSampleFailsUntilTheLastTensorIsComplete()
    {
        byte[] full = File.ReadAllBytes(Fixtures.Path("sample.gguf"));
        // The last tensor (q8_0, 34 bytes) starts at data offset 128 of the data section at 896.
        const int lastTensorEnd = 896 + 128 + 34;
        using var directory = new TempDirectory();
        string path = directory.File("cut.gguf");
        for (int length = 0; length <= full.Length; length++)
        {
            File.WriteAllBytes(path, full[..length]);
            ModelFileException? error = BadInput.TryOpen(path, Open);
            if (length < lastTensorEnd) Assert.True(error is not null, $"a file cut to {length} bytes opened");
            else Assert.Null(error);
        }
    }

    [Fact]
    public void GarbageAppendedToTheSampleIsRefused()
    {
        // The input: a real file with 1,000 bytes appended still opened, the bytes silently ignored.
        byte[] full = File.ReadAllBytes(Fixtures.Path("sample.gguf"));
        using var directory = new TempDirectory();
        string path = directory.File("appended.gguf");
        var garbage = new byte[1000];
        new Random(23).NextBytes(garbage);
        BadInput.Expect(path, [.. full, .. garbage], Open, $"1000 bytes follow the end of the tensor data at offset {full.Length}");
        // The last tensor's padding is optional (some writers leave it out), one byte more is not.
        BadInput.Expect(path, [.. full, 0], Open, "1 byte follows the end of the tensor data");
    }

    [Fact]
    public void FlippedHeaderBytesNeverEscapeAsAnotherException()
    {
        byte[] full = File.ReadAllBytes(Fixtures.Path("sample.gguf"));
        using var directory = new TempDirectory();
        string path = directory.File("flipped.gguf");
        int failures = 0;
        foreach (byte mask in new byte[] { 0xFF, 0x01 })
        {
            for (int position = 0; position < 896; position++)
            {
                byte[] bytes = (byte[])full.Clone();
                bytes[position] ^= mask;
                File.WriteAllBytes(path, bytes);
                if (BadInput.TryOpen(path, Open) is not null) failures++;
            }
        }
        // Most header bytes are counts, lengths, types and offsets; flipping them must be caught.
        Assert.True(failures > 600, $"only {failures} of {2 * 896} flips were rejected");
    }

    [Theory]
    [InlineData("metadata count", "metadata key 1: string length")]
    [InlineData("tensor count", "tensor info 1 name: string length")]
    [InlineData("string array length", "metadata 'v': string length")]
    public void CountsThatLieInsideALargeFileDoNotAllocateAhead(string lie, string fragment)
    {
        // 64 MiB of 0xFF after the lie: the count passes the "fits in the bytes left" bound, but the
        // next length read is enormous, so parsing stops after one element without preallocating.
        const int filler = 64 << 20;
        // The largest counts the bound allows: minimum sizes are 13 bytes a pair, 33 an info, 8 a string.
        ulong big = lie switch { "metadata count" => filler / 13, "tensor count" => filler / 33, _ => filler / 8 };
        var raw = new Raw().U32(0x46554747).U32(3);
        raw = lie switch
        {
            "metadata count" => raw.U64(0).U64(big).Str("k").U32(4).U32(1),
            "tensor count" => raw.U64(big).U64(0).Str("t").U32(1).U64(4).U32(0).U64(0),
            _ => raw.U64(0).U64(1).Str("v").U32(9).U32(8).U64(big).Str("first"),
        };
        byte[] bytes = raw.ToArray();
        using var directory = new TempDirectory();
        string path = directory.File("large.gguf");
        using (var stream = File.Create(path))
        {
            stream.Write(bytes);
            var chunk = new byte[1 << 20];
            Array.Fill(chunk, (byte)0xFF);
            for (int written = 0; written < filler; written += chunk.Length) stream.Write(chunk);
        }
        ModelFileException? error = BadInput.TryOpen(path, Open);
        Assert.NotNull(error);
        Assert.Contains(fragment, error.Message);
    }
}
