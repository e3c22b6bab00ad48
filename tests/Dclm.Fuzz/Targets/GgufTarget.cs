using System.Buffers.Binary;
using Dclm.Formats;
using Dclm.Formats.Gguf;
using Dclm.Tensors;
using Dclm.Tokenizers;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// GGUF files: the seeds' fields are located once (counts, string lengths, value types, array lengths, tensor
/// dimensions, types and offsets), and most mutations write edge values into those fields, swap or repeat
/// metadata entries, or cut and extend the file; the rest are byte-level. Each case is opened with
/// <see cref="GgufFile"/>, every value and tensor touched, and the tokenizer built and used when the metadata
/// holds one.
/// </summary>
internal sealed class GgufTarget : FuzzTarget
{
    private enum Role : byte { Count, Length, ValueType, ArrayType, Dimensions, Dimension, TensorType, Offset, Value }

    private readonly record struct Field(int Start, int Width, Role Role);

    private readonly record struct Seed(byte[] Bytes, Field[] Fields, (int Start, int End)[] Entries);

    private readonly ScratchFolder folder = new("gguf");
    private readonly Seed[] seeds;

    public GgufTarget(string seedFolder)
    {
        seeds = [Scan(File.ReadAllBytes(Path.Combine(seedFolder, "sample.gguf"))), Scan(TokenizerSeed())];
    }

    public override string Name => "gguf";

    public override string ExpectedErrors => "ModelFileException naming the file";

    public override byte[] NextCase(Random random)
    {
        var seed = seeds[random.Next(seeds.Length)];
        if (random.Next(4) == 0) return ByteMutator.Mutate(seed.Bytes, random, seeds[random.Next(seeds.Length)].Bytes);
        var bytes = new List<byte>(seed.Bytes);
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits; i++)
        {
            switch (random.Next(6))
            {
                case 0 or 1 or 2:
                {
                    var field = seed.Fields[random.Next(seed.Fields.Length)];
                    ulong value = random.Next(3) == 0 ? FieldValue(seed.Bytes, field) + (ulong)random.Next(-2, 3) : ByteMutator.InterestingValues[random.Next(ByteMutator.InterestingValues.Length)];
                    if (field.Role is Role.ValueType or Role.ArrayType or Role.TensorType && random.Next(2) == 0) value = (ulong)random.Next(0, 45);
                    ByteMutator.WriteInteger(bytes, field.Start, value, field.Width);
                    break;
                }
                case 3 when seed.Entries.Length > 1:
                {
                    // Repeat or drop a metadata entry without fixing the count, or fix it too.
                    var (start, end) = seed.Entries[random.Next(seed.Entries.Length)];
                    if (end > bytes.Count) break; // an earlier edit cut the file
                    if (random.Next(2) == 0) bytes.InsertRange(end, seed.Bytes[start..end]);
                    else bytes.RemoveRange(start, end - start);
                    break;
                }
                case 4:
                    int cut = random.Next(bytes.Count / 2, bytes.Count);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                default:
                    bytes.AddRange(ByteMutator.RandomBytes(random, random.Next(1, 2000)));
                    break;
            }
        }
        return [.. bytes];
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        string path = folder.File("case.gguf");
        File.WriteAllBytes(path, input);
        try
        {
            using var file = GgufFile.Open(path);
            foreach (var (key, value) in file.Metadata) _ = key.Length + value.ToString().Length + value.TypeDescription.Length;
            foreach (var tensor in file.Tensors.Values)
            {
                _ = tensor.ToString();
                if (tensor.ByteLength > 0) _ = tensor.Bytes[0] ^ tensor.Bytes[^1];
            }
            if (file.Metadata.ContainsKey("tokenizer.ggml.model"))
            {
                var tokenizer = Tokenizer.FromGguf(file);
                var ids = tokenizer.Encode("Hello, wörld 123 <s> 😀", addSpecialTokens: true, parseSpecialTokens: true);
                _ = tokenizer.Decode(ids);
            }
            return true;
        }
        catch (ModelFileException error)
        {
            CheckMessage(error, path);
            return false;
        }
    }

    public override void Dispose() => folder.Dispose();

    private static ulong FieldValue(byte[] bytes, Field field) => field.Width switch
    {
        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(field.Start)),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(field.Start)),
        _ => bytes[field.Start],
    };

    /// <summary>A small byte-level tokenizer with merges, special ids and two tensors, written by the project's own writer.</summary>
    private byte[] TokenizerSeed()
    {
        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        writer.AddString("tokenizer.ggml.model", "gpt2");
        writer.AddString("tokenizer.ggml.pre", "default");
        var tokens = Enumerable.Range(0, 256).Select(b => Gpt2Bytes.CharacterOf((byte)b).ToString()).ToList();
        tokens.AddRange(["He", "ll", "Hell", "<s>", "</s>"]);
        writer.AddStringArray("tokenizer.ggml.tokens", tokens);
        writer.AddInt32Array("tokenizer.ggml.token_type", [.. Enumerable.Repeat(1, 259), 3, 3]);
        writer.AddStringArray("tokenizer.ggml.merges", ["H e", "l l", "He ll"]);
        writer.AddUInt32("tokenizer.ggml.bos_token_id", 259);
        writer.AddUInt32("tokenizer.ggml.eos_token_id", 260);
        writer.AddBool("tokenizer.ggml.add_bos_token", true);
        writer.AddFloat32Array("scale", [1f, 2f, 3f]);
        writer.AddMetadata("nested", GgufValue.FromNestedArray([GgufValue.FromArray([1, 2]), GgufValue.FromArray([3])]));
        writer.AddTensor("a", GgmlType.F32, [2, 3], new byte[24]);
        writer.AddTensor("q", GgmlType.Q8_0, [1, 32], new byte[34]);
        string path = folder.File("seed.gguf");
        writer.Write(path);
        return File.ReadAllBytes(path);
    }

    /// <summary>Locates the fields of a valid GGUF file; the layout is GGUF v3's.</summary>
    private static Seed Scan(byte[] bytes)
    {
        var fields = new List<Field>();
        var entries = new List<(int, int)>();
        int position = 8;
        ulong Read(int width, Role role)
        {
            fields.Add(new Field(position, width, role));
            ulong value = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position)) : BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(position));
            position += width;
            return value;
        }
        void SkipString()
        {
            int length = (int)Read(8, Role.Length); // read first: "position += Read(...)" would add to the old position
            position += length;
        }
        void SkipValue(uint type)
        {
            switch (type)
            {
                case 8: SkipString(); break;
                case 9:
                    uint elementType = (uint)Read(4, Role.ArrayType);
                    ulong count = Read(8, Role.Count);
                    for (ulong i = 0; i < count; i++) SkipValue(elementType);
                    break;
                default:
                    int width = type switch { 0 or 1 or 7 => 1, 2 or 3 => 2, 4 or 5 or 6 => 4, _ => 8 };
                    if (width >= 4) fields.Add(new Field(position, width, Role.Value));
                    position += width;
                    break;
            }
        }
        ulong tensors = Read(8, Role.Count);
        ulong metadata = Read(8, Role.Count);
        for (ulong i = 0; i < metadata; i++)
        {
            int start = position;
            SkipString();
            SkipValue((uint)Read(4, Role.ValueType));
            entries.Add((start, position));
        }
        for (ulong i = 0; i < tensors; i++)
        {
            SkipString();
            uint dimensions = (uint)Read(4, Role.Dimensions);
            for (uint d = 0; d < dimensions; d++) Read(8, Role.Dimension);
            Read(4, Role.TensorType);
            Read(8, Role.Offset);
        }
        return new Seed(bytes, [.. fields], [.. entries]);
    }
}
