namespace Dclm.Tokenizers.Tests;

/// <summary>
/// llama.cpp's tokenizer test vectors: <c>NAME.tests.inp</c> holds the strings, each followed by a line
/// <c>__ggml_vocab_test__</c> (so a string is everything between "\n__ggml_vocab_test__\n" separators and
/// may itself start or end with newlines), and <c>NAME.tests.out</c> holds one line of space-separated
/// ids per string, produced by the Hugging Face tokenizer without BOS/EOS.
/// </summary>
internal static class VocabularyTestVectors
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static IReadOnlyList<(string Text, int[] Ids)> Read(string name)
    {
        string input = File.ReadAllText(Fixtures.Path(name + ".tests.inp"), System.Text.Encoding.UTF8);
        string output = File.ReadAllText(Fixtures.Path(name + ".tests.out"), System.Text.Encoding.UTF8);
        Assert.EndsWith(Separator, input);
        string[] texts = input[..^Separator.Length].Split(Separator);
        string[] lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(texts.Length, lines.Length);
        var cases = new List<(string, int[])>();
        for (int index = 0; index < texts.Length; index++)
        {
            int[] ids = lines[index].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            cases.Add((texts[index], ids));
        }
        return cases;
    }
}
