using System.Text;
using Dclm.Formats.Gguf;
using Dclm.Tensors;

namespace Dclm.Formats.Tests;

// sample.gguf is written by fixtures/make_sample_gguf.py (Python stdlib, following the GGUF spec);
// llama-spm.vocab.gguf is a vocabulary-only file written by llama.cpp's converter.
public class GgufReaderTests
{
    [Fact]
    public void ReadsEveryMetadataType()
    {
        using GgufFile gguf = GgufFile.Open(Fixtures.Path("sample.gguf"));
        Assert.Equal(3u, gguf.Version);
        Assert.Equal(64u, gguf.Alignment);
        Assert.Equal(896, gguf.DataOffset);
        Assert.Equal(19, gguf.Metadata.Count);
        Assert.Equal("general.architecture", gguf.Metadata.Keys.First());
        Assert.Equal("llama", gguf.GetString("general.architecture"));
        Assert.Equal((byte)200, gguf.Metadata["test.uint8"].Value);
        Assert.Equal((sbyte)-100, gguf.Metadata["test.int8"].Value);
        Assert.Equal((ushort)60000, gguf.Metadata["test.uint16"].Value);
        Assert.Equal((short)-30000, gguf.Metadata["test.int16"].Value);
        Assert.Equal(4000000000u, gguf.GetUInt32("test.uint32"));
        Assert.Equal(-2000000000, gguf.GetInt32("test.int32"));
        Assert.Equal(0.25f, gguf.GetFloat32("test.float32"));
        Assert.True(gguf.GetBool("test.bool"));
        Assert.Equal("héllo ✓", gguf.GetString("test.string"));
        Assert.Equal((1UL << 63) + 5, gguf.Metadata["test.uint64"].Value);
        Assert.Equal(-(1L << 40), gguf.GetInt64("test.int64"));
        Assert.Equal(1.0 / 3.0, gguf.Metadata["test.float64"].Value);
        Assert.Equal((float)(1.0 / 3.0), gguf.GetFloat32("test.float64"));
        Assert.Equal(["a", "", "Ġthe", "<0x0A>"], gguf.GetStringArray("test.strings"));
        Assert.Equal([1.5f, -2.0f, 0.0f], gguf.GetFloat32Array("test.floats"));
        Assert.Equal([1, -2, 3], gguf.GetInt32Array("test.ints"));
        Assert.Equal(new[] { true, false }, gguf.Metadata["test.bools"].Value);
        GgufValue nested = gguf.Metadata["test.nested"];
        Assert.Equal(GgufValueType.Array, nested.ElementType);
        var inner = (GgufValue[])nested.Value;
        Assert.Equal(new uint[] { 1, 2 }, inner[0].Value);
        Assert.Equal(new[] { "x" }, inner[1].Value);
    }

    [Fact]
    public void IntegerGettersAcceptAnyWidthThatFits()
    {
        using GgufFile gguf = GgufFile.Open(Fixtures.Path("sample.gguf"));
        Assert.Equal(200u, gguf.GetUInt32("test.uint8"));
        Assert.Equal(-100L, gguf.GetInt64("test.int8"));
        Assert.Equal(60000, gguf.GetInt32("test.uint16"));
        Assert.Equal(4000000000L, gguf.GetInt64("test.uint32"));
        Assert.Equal(2.0f, gguf.GetFloat32("general.alignment") / 32);
    }

    [Fact]
    public void WrongTypeAndMissingKeysNameTheKey()
    {
        using GgufFile gguf = GgufFile.Open(Fixtures.Path("sample.gguf"));
        var wrong = Assert.Throws<ModelFileException>(() => gguf.GetString("test.uint32"));
        Assert.Contains("'test.uint32'", wrong.Message);
        Assert.Contains("expected string", wrong.Message);
        Assert.StartsWith(Fixtures.Path("sample.gguf") + ": ", wrong.Message);
        Assert.Contains("expected uint32", Assert.Throws<ModelFileException>(() => gguf.GetUInt32("test.int32")).Message);
        Assert.Contains("expected int64", Assert.Throws<ModelFileException>(() => gguf.GetInt64("test.uint64")).Message);
        Assert.Contains("expected int32", Assert.Throws<ModelFileException>(() => gguf.GetInt32("test.uint32")).Message);
        Assert.Contains("expected bool", Assert.Throws<ModelFileException>(() => gguf.GetBool("test.uint8")).Message);
        Assert.Contains("expected array of string", Assert.Throws<ModelFileException>(() => gguf.GetStringArray("test.ints")).Message);
        Assert.Contains("expected array of float32", Assert.Throws<ModelFileException>(() => gguf.GetFloat32Array("test.strings")).Message);
        Assert.Contains("expected array of int32", Assert.Throws<ModelFileException>(() => gguf.GetInt32Array("test.floats")).Message);
        var missing = Assert.Throws<ModelFileException>(() => gguf.GetString("no.such.key"));
        Assert.Contains("'no.such.key' is missing", missing.Message);
        Assert.False(gguf.TryGetString("no.such.key", out _));
        Assert.False(gguf.TryGetUInt32("no.such.key", out _));
        Assert.Throws<ModelFileException>(() => gguf.TryGetBool("test.string", out _));
    }

    [Fact]
    public unsafe void ReadsTensorsRowMajorWithData()
    {
        using GgufFile gguf = GgufFile.Open(Fixtures.Path("sample.gguf"));
        Assert.Equal(["token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight"], gguf.Tensors.Keys);

        TensorEntry embedding = gguf.Tensors["token_embd.weight"];
        Assert.Equal(GgmlType.F32, embedding.Type);
        Assert.Equal([2L, 3L], embedding.Shape); // ne = [3, 2]
        Assert.Equal(24, embedding.ByteLength);
        Assert.Equal([-3.0f, -2.5f, -2.0f, -1.5f, -1.0f, -0.5f], embedding.AsSpan<float>().ToArray());

        TensorEntry norm = gguf.Tensors["blk.0.attn_norm.weight"];
        Assert.Equal(GgmlType.F16, norm.Type);
        Assert.Equal([4L], norm.Shape);
        Assert.Equal([(Half)1.0f, (Half)(-2.0f), (Half)0.5f, (Half)65504f], norm.AsSpan<Half>().ToArray());

        TensorEntry query = gguf.Tensors["blk.0.attn_q.weight"];
        Assert.Equal(GgmlType.Q8_0, query.Type);
        Assert.Equal("q8_0", query.DtypeName);
        Assert.Equal([1L, 32L], query.Shape);
        Assert.Equal(34, query.ByteLength);
        Assert.Equal((Half)0.5f, BitConverter.ToHalf(query.Bytes[..2]));
        Assert.Equal(-16, (sbyte)query.Bytes[2]);
        Assert.Equal(15, (sbyte)query.Bytes[33]);
        // Tensors are 64-byte aligned one after another.
        Assert.Equal(64, norm.Data - embedding.Data);
        Assert.Equal(128, query.Data - embedding.Data);
    }

    [Fact]
    public void ReadsALlamaCppVocabularyFile()
    {
        using GgufFile gguf = GgufFile.Open(Fixtures.Path("llama-spm.vocab.gguf"));
        string[] tokens = gguf.GetStringArray("tokenizer.ggml.tokens");
        // Expected values were read with a separate Python stdlib parser.
        Assert.Equal(22, gguf.Metadata.Count);
        Assert.Empty(gguf.Tensors);
        Assert.Equal(32000, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], tokens[..4]);
        Assert.Equal("给", tokens[^1]);
        Assert.Equal(210919, tokens.Sum(token => Encoding.UTF8.GetByteCount(token))); // UTF-8 bytes of all tokens
        float[] scores = gguf.GetFloat32Array("tokenizer.ggml.scores");
        Assert.Equal(-31740.0f, scores[^1]);
        Assert.Equal(-16503658723.0, scores.Sum(score => (double)score));
        int[] types = gguf.GetInt32Array("tokenizer.ggml.token_type");
        Assert.Equal([2, 3, 3, 6, 6], types[..5]);
        Assert.Equal(33285, types.Sum());
        Assert.Equal(1u, gguf.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.True(gguf.GetBool("tokenizer.ggml.add_bos_token"));
        Assert.False(gguf.GetBool("tokenizer.ggml.add_eos_token"));
        Assert.Equal(9.999999747378752e-06f, gguf.GetFloat32("llama.attention.layer_norm_rms_epsilon"));
    }

    [Fact]
    public void AcceptsVersion2WhichSharesTheVersion3Layout()
    {
        using var directory = new TempDirectory();
        string path = directory.File("v2.gguf");
        byte[] bytes = File.ReadAllBytes(Fixtures.Path("sample.gguf"));
        bytes[4] = 2;
        File.WriteAllBytes(path, bytes);
        using GgufFile gguf = GgufFile.Open(path);
        Assert.Equal(2u, gguf.Version);
        Assert.Equal(3, gguf.Tensors.Count);
    }

    [Fact]
    public void NonGgufFilesAreRejected()
    {
        using var directory = new TempDirectory();
        string path = directory.File("not.gguf");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("GGML plus some more bytes to read"));
        var error = Assert.Throws<ModelFileException>(() => GgufFile.Open(path));
        Assert.Equal($"{path}: not a GGUF file (magic 0x{BitConverter.ToUInt32("GGML"u8):x8}, expected \"GGUF\")", error.Message);
        Assert.Contains("file not found", Assert.Throws<ModelFileException>(() => GgufFile.Open(directory.File("absent.gguf"))).Message);
        Assert.Contains("is a directory", Assert.Throws<ModelFileException>(() => GgufFile.Open(directory.FullPath)).Message);
        File.WriteAllBytes(path, []);
        Assert.Contains("truncated", Assert.Throws<ModelFileException>(() => GgufFile.Open(path)).Message);
    }
}
