using System.Text;
using Dclm.Inference.Constraints;

namespace Dclm.Inference.Tests;

/// <summary>Fixed text around a name and a JSON object: the shape of a forced function call.</summary>
public sealed class SequenceGrammarTests
{
    private static readonly GrammarPart[] Call =
    [
        GrammarPart.Literal("<tool_call>\n{\"name\": \""), GrammarPart.OneOf(["get", "get_weather", "now"]),
        GrammarPart.Literal("\", \"arguments\": "), GrammarPart.JsonObject(), GrammarPart.Literal("}\n</tool_call>"),
    ];

    private static (int Accepted, bool Complete) Run(string text)
    {
        var grammar = new SequenceGrammar(Call);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < bytes.Length; i++)
            if (!grammar.Feed(bytes[i])) return (i, false);
        return (bytes.Length, grammar.IsComplete);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"get\", \"arguments\": {}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": [1, 2]}}\n</tool_call>")]
    [InlineData("<tool_call>\n{\"name\": \"now\", \"arguments\": { }}\n</tool_call>")]
    public void CallsOfOfferedFunctionsAreComplete(string text)
    {
        Assert.Equal((Encoding.UTF8.GetByteCount(text), true), Run(text));
        for (int cut = 0; cut < text.Length; cut++) Assert.Equal((cut, false), Run(text[..cut]));
    }

    [Theory]
    [InlineData("Sure! <tool_call>", 0)]
    [InlineData("<tool_call>\n{\"name\": \"got\", \"arguments\": {}}", 23)] // not an offered name
    [InlineData("<tool_call>\n{\"name\": \"gets\", \"arguments\": {}}", 25)]
    [InlineData("<tool_call>\n{\"name\": \"now\", \"arguments\": []}", 41)] // arguments must be an object
    [InlineData("<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>\n", 57)] // nothing after the call
    public void AnythingElseIsRefusedWhereItStrays(string text, int accepted) => Assert.Equal((accepted, false), Run(text));

    [Fact]
    public void ArgumentsFollowTheSchemaOfTheFunctionNamed()
    {
        var city = JsonSchemaProgram.Compile(System.Text.Json.JsonDocument.Parse("""{"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}""").RootElement);
        GrammarPart[] call =
        [
            GrammarPart.Literal("{\"name\": \""), GrammarPart.OneOf(["get", "get_weather", "now"]), GrammarPart.Literal("\", \"arguments\": "),
            GrammarPart.JsonObject([null, city, null]), GrammarPart.Literal("}"),
        ];
        (int, bool) Run(string text)
        {
            var grammar = new SequenceGrammar(call);
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            for (int i = 0; i < bytes.Length; i++)
                if (!grammar.Feed(bytes[i])) return (i, false);
            return (bytes.Length, grammar.IsComplete);
        }
        const string weather = "{\"name\": \"get_weather\", \"arguments\": ";
        Assert.Equal((weather.Length + 29, true), Run(weather + "{\"city\": \"Paris\", \"days\": 2}}"));
        Assert.Equal((weather.Length + 1, false), Run(weather + "{}}")); // city is required
        Assert.Equal((weather.Length + 2, false), Run(weather + "{\"when\": 1}}"));
        // "get" (a prefix of "get_weather") and "now" take any object.
        const string get = "{\"name\": \"get\", \"arguments\": ";
        Assert.Equal((get.Length + 14, true), Run(get + "{\"when\": [1]}}"));
        Assert.Equal((get.Length + 3, true), Run(get + "{}}"));
    }
}
