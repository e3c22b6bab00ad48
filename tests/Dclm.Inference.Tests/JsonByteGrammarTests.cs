using System.Text;
using System.Text.Json;
using Dclm.Inference.Constraints;

namespace Dclm.Inference.Tests;

/// <summary>The JSON byte grammar of JSON mode, checked against System.Text.Json's own reader.</summary>
public sealed class JsonByteGrammarTests
{
    /// <summary>Feeds every byte; returns how many were accepted and whether the object closed.</summary>
    private static (int Accepted, bool Complete) Run(string text)
    {
        var grammar = new JsonByteGrammar();
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < bytes.Length; i++)
            if (!grammar.Feed(bytes[i])) return (i, false);
        return (bytes.Length, grammar.IsComplete);
    }

    private static bool ParsesAsObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{ \"a\" : [ 1, -2.5e+3, 0, 0.25, 1E9, true, false, null, \"x\\u00e9\\n\\\"\" ], \"b\": {\"c\": {}, \"d\": []}}")]
    [InlineData("{\n  \"a\": [\n\t\t1,\n\t\t2\n  ],\n  \"b\": {\n    \"c\": null\n  }\n}")]
    [InlineData("{\"unicode\": \"é€😀 and \\ud83d\\ude00\"}")]
    [InlineData("{\"nested\": [[[[{\"deep\": [-0.0e-0]}]]]]}")]
    public void ValidObjectsAreReadToTheEnd(string json)
    {
        Assert.True(ParsesAsObject(json)); // the oracle agrees it is a JSON object
        var (accepted, complete) = Run(json);
        Assert.Equal(Encoding.UTF8.GetByteCount(json), accepted);
        Assert.True(complete);
        // Every proper prefix is accepted and not yet complete, so a constrained model can always go on.
        for (int cut = 0; cut < json.Length; cut++)
        {
            if (char.IsLowSurrogate(json[cut])) continue;
            var prefix = Run(json[..cut]);
            Assert.Equal(Encoding.UTF8.GetByteCount(json[..cut]), prefix.Accepted);
            Assert.False(prefix.Complete);
        }
    }

    [Theory]
    [InlineData("[]", 0)] // JSON mode wants an object
    [InlineData("\"text\"", 0)]
    [InlineData("{\"a\" 1}", 5)]
    [InlineData("{\"a\": 01}", 7)]
    [InlineData("{\"a\": 1.}", 8)]
    [InlineData("{\"a\": .5}", 6)]
    [InlineData("{\"a\": trux}", 9)]
    [InlineData("{'a': 1}", 1)]
    [InlineData("{\"a\": 1,}", 8)]
    [InlineData("{\"a\": 1}}", 8)]
    [InlineData("{\"a\": [1}", 8)]
    [InlineData("{\"a\": \"tab\there\"}", 10)] // raw control character in a string
    [InlineData("{\"a\": \"\\x\"}", 8)]
    [InlineData("{\"a\": 1} ", 8)] // nothing after the object
    public void InvalidBytesAreRefusedWhereTheyAppear(string json, int acceptedBytes)
    {
        Assert.False(ParsesAsObject(json) && !json.EndsWith(' ')); // the oracle refuses it too (trailing space aside)
        Assert.Equal((acceptedBytes, false), Run(json));
    }

    [Fact]
    public void InvalidUtf8DeepNestingAndEndlessWhitespaceAreRefused()
    {
        var grammar = new JsonByteGrammar();
        foreach (byte b in "{\"a\": \""u8) Assert.True(grammar.Feed(b));
        Assert.False(grammar.Feed(0xC0)); // never a UTF-8 lead byte
        var continuation = new JsonByteGrammar();
        foreach (byte b in "{\"a\": \""u8) continuation.Feed(b);
        Assert.True(continuation.Feed(0xE2));
        Assert.False(continuation.Feed((byte)'x')); // a lead byte needs its continuation bytes

        string deep = "{\"a\": " + new string('[', JsonByteGrammar.MaxDepth - 1);
        Assert.Equal((Encoding.UTF8.GetByteCount(deep), false), Run(deep));
        Assert.Equal(Encoding.UTF8.GetByteCount(deep), Run(deep + "[").Accepted);

    }

    [Theory]
    [InlineData("{ ", 2)]
    [InlineData("{  ", 2)] // one space, not two
    [InlineData(" {", 0)] // nothing before the object
    [InlineData("\n{", 0)]
    [InlineData("{\n\n", 2)] // one newline, not two
    [InlineData("{\r\n", 1)]
    [InlineData("{\t", 1)] // a tab only as indent after the newline
    [InlineData("{ \n", 2)]
    [InlineData("{\n \t \"a\":\n1 ,\n\"b\" :  2}", 20)]
    public void WhitespaceIsBoundedAsLlamaCppsJsonGrammarBoundsIt(string json, int acceptedBytes)
    {
        // llama.cpp grammars/json.gbnf: ws ::= | " " | "\n" [ \t]{0,20}, at each point between tokens.
        Assert.Equal(acceptedBytes, Run(json).Accepted);
        string indented = "{\n" + new string(' ', JsonByteGrammar.MaxIndent);
        Assert.Equal(indented.Length, Run(indented).Accepted);
        Assert.Equal(indented.Length, Run(indented + " ").Accepted);
        Assert.Equal(indented.Length, Run(indented + "\t").Accepted);
        Assert.Equal((indented.Length + 1, true), Run(indented + "}"));
    }

    /// <summary>Whether every run of whitespace outside strings is one space or a newline and up to 20 spaces or tabs, with none around the object.</summary>
    private static bool WhitespaceIsBounded(string json)
    {
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; continue; }
            if (c is not (' ' or '\t' or '\n' or '\r')) continue;
            int end = i;
            while (end < json.Length && json[end] is ' ' or '\t' or '\n' or '\r') end++;
            string run = json[i..end];
            if (i == 0 || end == json.Length || !System.Text.RegularExpressions.Regex.IsMatch(run, "^( |\n[ \t]{0,20})$")) return false;
            i = end - 1;
        }
        return true;
    }

    [Fact]
    public void MutatedDocumentsAreJudgedAsSystemTextJsonJudgesThem()
    {
        // Random edits of valid objects, from an alphabet of JSON's own characters: whenever every byte is
        // accepted and the object closed, System.Text.Json must parse an object, and whenever it parses one,
        // the grammar must accept all of it.
        string[] seeds =
        [
            "{\"a\": [1, 2.5, -3e2, true, null], \"b\": {\"c\": \"d\\n\"}}",
            "{\"list\": [{}, [], \"\", 0, -0.5E+1], \"s\": \"q\\\"uote\"}",
        ];
        const string alphabet = "{}[]\":,. -+0123456789eEtrufalsn\\x";
        var random = new Random(20261128);
        int agreedValid = 0, checkedCount = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var text = new StringBuilder(seeds[i % seeds.Length]);
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                int at = random.Next(text.Length);
                switch (random.Next(3))
                {
                    case 0: text.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                    case 1: text.Remove(at, 1); break;
                    default: text[at] = alphabet[random.Next(alphabet.Length)]; break;
                }
            }
            string json = text.ToString();
            var (accepted, complete) = Run(json);
            bool ours = complete && accepted == json.Length;
            Assert.True(ours == (ParsesAsObject(json) && WhitespaceIsBounded(json)), $"grammar {(ours ? "accepts" : "refuses")} {json}");
            checkedCount++;
            if (ours) agreedValid++;
        }
        Assert.True(agreedValid > 100, $"only {agreedValid} of {checkedCount} mutations stayed valid; the check says little");
    }
}
