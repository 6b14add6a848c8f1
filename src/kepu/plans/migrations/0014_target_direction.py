from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('plans', '0012_plan_leading_body'),
    ]

    operations = [
        migrations.AddField(
            model_name='target',
            name='direction',
            field=models.CharField(choices=[('up', '越高越好'), ('down', '越低越好')], default='up', max_length=4),
        ),
        migrations.AddField(
            model_name='target',
            name='significant',
            field=models.BooleanField(default=False),
        ),
    ]
