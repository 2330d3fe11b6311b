from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0002_user_name_index"),
        ("submissions", "0003_receipts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="addressee",
            index=models.Index(fields=["unit", "received_at"], name="addressee_unit_received"),
        ),
    ]
