using System.Text.Json;

namespace Dclm.TestSupport;

/// <summary>
/// dclm-tiny (open_lm, vocabulary 512, checked against PyTorch's reference logits) with a byte-level tokenizer.json: the
/// 256 bytes in GPT-2's alphabet as ids 0..255, then the 256 pairs of the letters a..p (merged in order), so every id the
/// model can draw decodes. For tests that need text on a model whose head is small (ILGPU's CPU accelerator runs the 50k-row
/// head of the NeoX vocabulary slowly).
/// </summary>
public static class TinyByteModel
{
    /// <summary>Copies the dclm-tiny checkpoint in <paramref name="dclmTiny"/> to <paramref name="directory"/> with the tokenizer; returns the directory.</summary>
    public static string Write(string directory, string dclmTiny)
    {
        Directory.CreateDirectory(directory);
        foreach (string file in Directory.GetFiles(dclmTiny)) File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
        var vocabulary = new Dictionary<string, int>();
        int unprintable = 0;
        for (int b = 0; b < 256; b++)
        {
            // GPT-2's byte alphabet: printable Latin-1 stands for itself, the rest maps to U+0100 onwards.
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            vocabulary[((char)(printable ? b : 256 + unprintable++)).ToString()] = b;
        }
        var merges = new List<string>();
        for (int id = 256; id < 512; id++)
        {
            char first = (char)('a' + (id - 256) / 16), second = (char)('a' + (id - 256) % 16);
            vocabulary[$"{first}{second}"] = id;
            merges.Add($"{first} {second}");
        }
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocabulary, ["merges"] = merges },
            ["pre_tokenizer"] = new { type = "ByteLevel", add_prefix_space = false, use_regex = true },
            ["decoder"] = new { type = "ByteLevel" },
        }));
        return directory;
    }
}
