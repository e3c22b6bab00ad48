using System.Text;
using Dclm.Formats.Safetensors;

namespace Dclm.Formats.Tests;

/// <summary>
/// Corrupt and lying safetensors files and checkpoint directories. Each must fail with a
/// ModelFileException naming the file and the problem, without a large allocation.
/// </summary>
public class SafetensorsBadInputTests
{
    private static readonly Func<string, IDisposable> OpenFile = path => SafetensorsFile.Open(path);
    private static readonly Func<string, IDisposable> OpenCheckpoint = path => SafetensorsCheckpoint.Open(path);

    /// <summary>8-byte header length (or a lie), the header text, then <paramref name="dataBytes"/> zero bytes.</summary>
    private static byte[] Build(string header, int dataBytes, ulong? headerLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new MemoryStream();
        bytes.Write(BitConverter.GetBytes(headerLength ?? (ulong)json.Length));
        bytes.Write(json);
        bytes.Write(new byte[dataBytes]);
        return bytes.ToArray();
    }

    private const string Valid = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[16,24]}}""";

    private static string Tensor(string body) => "{\"a\":" + body + "}";

    public static TheoryData<string, string, string> Cases => new()
    {
        // name, header, expected message fragment ("" = must open)
        { "valid", Valid, "" },
        { "not JSON", "{\"a\": [1, 2", "header is not valid JSON" },
        { "array root", "[1, 2, 3]", "header is not a JSON object" },
        { "empty header", "", "header is not a JSON object" },
        { "unknown dtype", Tensor("""{"dtype":"F31","shape":[2],"data_offsets":[0,8]}"""), "tensor 'a' has unknown dtype 'F31'" },
        { "dtype not a string", Tensor("""{"dtype":4,"shape":[2],"data_offsets":[0,8]}"""), "tensor 'a' has no dtype string" },
        { "tensor not an object", Tensor("7"), "tensor 'a' is a JSON Number, expected an object" },
        { "missing shape", Tensor("""{"dtype":"F32","data_offsets":[0,8]}"""), "tensor 'a' has no shape array" },
        { "negative dimension", Tensor("""{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}"""), "tensor 'a' shape entry 0 is -2" },
        { "fractional dimension", Tensor("""{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}"""), "tensor 'a' shape entry 0 is 2.5" },
        { "huge dimension", Tensor("""{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,8]}"""), "tensor 'a' shape entry 0 is 99999999999999999999999" },
        { "element count overflows", Tensor("""{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}"""), "more elements than fit in 64 bits" },
        { "byte count overflows", Tensor("""{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}"""), "more bytes than fit in 64 bits" },
        { "too many dimensions", Tensor("{\"dtype\":\"F32\",\"shape\":[" + string.Join(",", Enumerable.Repeat(1, 65)) + "],\"data_offsets\":[0,4]}"), "tensor 'a' has 65 dimensions" },
        { "missing offsets", Tensor("""{"dtype":"F32","shape":[2]}"""), "tensor 'a' has no data_offsets pair" },
        { "three offsets", Tensor("""{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}"""), "tensor 'a' has no data_offsets pair" },
        { "negative offset", Tensor("""{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"""), "data_offsets entry -8 is not a non-negative integer" },
        { "offsets reversed", Tensor("""{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"""), "tensor 'a' data_offsets [8, 0) end before they begin" },
        { "offset out of bounds", Tensor("""{"dtype":"F32","shape":[2],"data_offsets":[1099511627776,1099511627784]}"""), "lies outside the file" },
        { "byte count mismatch", Tensor("""{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"""), "tensor 'a' data_offsets [0, 8) hold 8 bytes, but F32 shape [3] takes 12" },
        { "overlap", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "tensor 'b' data_offsets [8, 16) overlap tensor 'a' [0, 16)" },
        { "gap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}""", "tensor 'b' data_offsets [16, 24) leave a gap [8, 16) after tensor 'a'" },
        { "first tensor not at 0", Tensor("""{"dtype":"F32","shape":[4],"data_offsets":[8,24]}"""), "tensor 'a' data_offsets [8, 24) leave bytes [0, 8) of the data section unused" },
        { "data left over", Tensor("""{"dtype":"F32","shape":[4],"data_offsets":[0,16]}"""), "the data section holds 24 bytes but the tensors cover 16: 8 bytes belong to no tensor" },
        { "duplicate tensor", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "tensor 'a' appears twice in the header" },
        { "metadata not strings", """{"__metadata__":{"format":1}}""", "__metadata__ value 'format' is a JSON Number, expected a string" },
        { "metadata not an object", """{"__metadata__":"pt"}""", "__metadata__ is a JSON String, expected an object of strings" },
        { "lone surrogate in a field name", Tensor("""{"dtype":"F32","shape":[2],"\ud800":[0,8]}"""), "the header: a field name in a holds an unpaired UTF-16 surrogate escape" },
        { "lone surrogate in a dtype", Tensor("""{"dtype":"\udc00","shape":[2],"data_offsets":[0,8]}"""), "the header: a.dtype holds an unpaired UTF-16 surrogate escape" },
        { "name with a line break", "{\"evil\\nname\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", "tensor 'evil\\x0aname' has unknown dtype 'X'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LyingHeadersFailWithANamedProblem(string name, string header, string fragment)
    {
        Assert.NotEmpty(name);
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        byte[] bytes = Build(header, dataBytes: 24);
        if (fragment.Length == 0)
        {
            File.WriteAllBytes(path, bytes);
            Assert.Null(BadInput.TryOpen(path, OpenFile));
            return;
        }
        BadInput.Expect(path, bytes, OpenFile, fragment);
    }

    [Fact]
    public void LyingHeaderLengthsFail()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        BadInput.Expect(path, Build(Valid, 24, headerLength: ulong.MaxValue), OpenFile, $"header length {ulong.MaxValue} runs past the end of the file");
        BadInput.Expect(path, Build(Valid, 24, headerLength: 200_000_000), OpenFile, "header length 200000000 runs past the end of the file");
        BadInput.Expect(path, Build(Valid, 24, headerLength: 20), OpenFile, "header is not valid JSON");
        BadInput.Expect(path, [1, 2, 3], OpenFile, "truncated: 3 bytes is too short for the 8-byte header length");
    }

    /// <summary>A file as the reference writer lays it out: the header padded with spaces to a multiple of 8.</summary>
    private static byte[] BuildPadded(string header, int dataBytes)
    {
        string padded = header + new string(' ', (8 - header.Length % 8) % 8 + 8);
        return Build(padded, dataBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void AHeaderLengthShortenedIntoThePaddingIsRefused(int shortenedBy)
    {
        // The input: the JSON still parses without its trailing spaces, and every tensor was read
        // shortenedBy bytes early with no error.
        byte[] bytes = BuildPadded(Valid, dataBytes: 24);
        ulong length = BitConverter.ToUInt64(bytes, 0);
        BitConverter.GetBytes(length - (ulong)shortenedBy).CopyTo(bytes, 0);
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        BadInput.Expect(path, bytes, OpenFile, $"the data section holds {24 + shortenedBy} bytes but the tensors cover 24");
        File.WriteAllBytes(path, BuildPadded(Valid, dataBytes: 24));
        Assert.Null(BadInput.TryOpen(path, OpenFile));
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensorOfAShardAreRefused()
    {
        // The input: a real shard with bytes appended opened (dclm info exited 0).
        string shard = Fixtures.Path("dclm-tiny", "model-00001-of-00002.safetensors");
        byte[] full = File.ReadAllBytes(shard);
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        File.WriteAllBytes(path, full);
        Assert.Null(BadInput.TryOpen(path, OpenFile));
        BadInput.Expect(path, [.. full, 0], OpenFile, "1 byte belongs to no tensor");
        BadInput.Expect(path, [.. full, .. new byte[1000]], OpenFile, "1000 bytes belong to no tensor (a wrong header length, or bytes appended to the file)");
    }

    [Fact]
    public void EveryTruncationOfASmallFileFails()
    {
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        byte[] full = Build(Valid, dataBytes: 24);
        for (int length = 0; length < full.Length; length++)
        {
            File.WriteAllBytes(path, full[..length]);
            Assert.NotNull(BadInput.TryOpen(path, OpenFile));
        }
        File.WriteAllBytes(path, full);
        Assert.Null(BadInput.TryOpen(path, OpenFile));
    }

    [Fact]
    public void TruncatedFixtureShardsFail()
    {
        byte[] full = File.ReadAllBytes(Fixtures.Path("dclm-tiny", "model-00001-of-00002.safetensors"));
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        for (int length = 0; length < full.Length; length += 4099)
        {
            File.WriteAllBytes(path, full[..length]);
            Assert.NotNull(BadInput.TryOpen(path, OpenFile));
        }
        File.WriteAllBytes(path, full[..^1]);
        Assert.Contains("lies outside the file", BadInput.TryOpen(path, OpenFile)!.Message);
    }

    [Fact]
    public void FlippedHeaderBytesNeverEscapeAsAnotherException()
    {
        byte[] full = Build(Valid, dataBytes: 24);
        using var directory = new TempDirectory();
        string path = directory.File("model.safetensors");
        int failures = 0;
        for (int position = 0; position < full.Length - 24; position++)
        {
            byte[] bytes = (byte[])full.Clone();
            bytes[position] ^= 0xFF;
            File.WriteAllBytes(path, bytes);
            if (BadInput.TryOpen(path, OpenFile) is not null) failures++;
        }
        // 0xFF is never valid UTF-8 and every header-length byte matters, so each flip must be caught.
        Assert.Equal(full.Length - 24, failures);
    }

    private static TempDirectory CopyFixture(string name = "dclm-tiny")
    {
        var directory = new TempDirectory();
        foreach (string file in Directory.GetFiles(Fixtures.Path(name)))
            File.Copy(file, directory.File(Path.GetFileName(file)));
        return directory;
    }

    [Fact]
    public void MissingShardIsNamedInTheIndexError()
    {
        using TempDirectory directory = CopyFixture();
        File.Delete(directory.File("model-00002-of-00002.safetensors"));
        ModelFileException error = BadInput.TryOpen(directory.FullPath, OpenCheckpoint)
            ?? throw new Xunit.Sdk.XunitException("opened without a shard");
        // The error names the index file, not the directory.
        Assert.Equal(directory.File(SafetensorsCheckpoint.IndexFileName), error.FilePath);
        Assert.Contains("shard 'model-00002-of-00002.safetensors' (holding tensor 'model.layers.1.attention.out_proj.weight') does not exist", error.Message);
    }

    [Fact]
    public void IndexProblemsAreNamed()
    {
        using TempDirectory directory = CopyFixture();
        string index = directory.File(SafetensorsCheckpoint.IndexFileName);
        string original = File.ReadAllText(index);
        (string Text, string Fragment)[] cases =
        [
            (original.Replace("\"model.norm.weight\"", "\"model.ghost.weight\""),
                "tensor 'model.ghost.weight' is mapped to shard 'model-00002-of-00002.safetensors', which does not contain it"),
            (original.Replace("\"model.norm.weight\": \"model-00002", "\"model.norm.weight\": \"model-00001"),
                "tensor 'model.norm.weight' is mapped to shard 'model-00001-of-00002.safetensors', which does not contain it"),
            (original.Replace("\"model-00002-of-00002.safetensors\"", "\"../model-00002-of-00002.safetensors\""),
                "names '../model-00002-of-00002.safetensors', which is not a plain file name"),
            (original[..^20], "is not valid JSON"),
            ("{\"metadata\": {}}", "has no weight_map object"),
            ("{\"weight_map\": {}}", "weight_map is empty"),
            ("{\"weight_map\": {\"a\": 3}}", "weight_map entry 'a' is a JSON Number"),
            ("[]", "is not a JSON object"),
        ];
        foreach (var (text, fragment) in cases)
        {
            File.WriteAllText(index, text);
            ModelFileException error = BadInput.TryOpen(directory.FullPath, OpenCheckpoint)
                ?? throw new Xunit.Sdk.XunitException($"opened with a broken index: expected '{fragment}'");
            Assert.Equal(index, error.FilePath);
            Assert.Contains(fragment, error.Message);
        }
    }

    [Fact]
    public void CorruptShardAndDuplicateTensorsAreNamed()
    {
        using TempDirectory directory = CopyFixture();
        string shard = directory.File("model-00001-of-00002.safetensors");
        byte[] bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..1000]);
        ModelFileException corrupt = BadInput.TryOpen(directory.FullPath, OpenCheckpoint)!;
        Assert.NotNull(corrupt);
        Assert.Equal(shard, corrupt.FilePath);

        // Without an index every *.safetensors is loaded, so one tensor in two files must be caught.
        File.WriteAllBytes(shard, bytes);
        File.Delete(directory.File(SafetensorsCheckpoint.IndexFileName));
        File.Copy(shard, directory.File("model-00003-of-00003.safetensors"));
        ModelFileException duplicate = BadInput.TryOpen(directory.FullPath, OpenCheckpoint)!;
        Assert.NotNull(duplicate);
        Assert.Contains("tensor 'model.layers.0.attention.in_proj.weight' also appears in another shard", duplicate.Message);
    }
}
