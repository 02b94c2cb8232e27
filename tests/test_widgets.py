"""PlainSelect renders what Django's Select renders, without a template per option."""

from django import forms
from django.test import SimpleTestCase

from smmdesk.lib.widgets import PlainSelect

CHOICES = [("", "Any"), ("me", "Me"), ("7", "Ann <script>alert(1)</script> & Co"), ("8", 'Bob "B"')]


class Both(forms.Form):
    template = forms.ChoiceField(
        choices=CHOICES, required=False, widget=forms.Select(attrs={"data-shortcut": "a"})
    )
    plain = forms.ChoiceField(
        choices=CHOICES, required=False, widget=PlainSelect(attrs={"data-shortcut": "a"})
    )
    typed = forms.TypedChoiceField(choices=[(1, "Low"), (2, "High")], coerce=int, widget=PlainSelect)


class PlainSelectTest(SimpleTestCase):
    def test_same_markup_as_select_with_the_value_selected_and_text_escaped(self):
        form = Both({"template": "7", "plain": "7", "typed": "2"})
        template = str(form["template"]).replace('name="template"', 'name="x"').replace("id_template", "id_x")
        plain = str(form["plain"]).replace('name="plain"', 'name="x"').replace("id_plain", "id_x")
        self.assertHTMLEqual(plain, template)
        self.assertIn(
            '<option value="7" selected>Ann &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</option>', plain
        )
        self.assertIn("Bob &quot;B&quot;", plain)
        self.assertInHTML('<option value="2" selected>High</option>', str(form["typed"]))

    def test_unbound_form_marks_the_same_option_as_select(self):
        form = Both()
        template = str(form["template"]).replace('name="template"', 'name="x"').replace("id_template", "id_x")
        plain = str(form["plain"]).replace('name="plain"', 'name="x"').replace("id_plain", "id_x")
        self.assertHTMLEqual(plain, template)
        self.assertIn('data-shortcut="a"', plain)
