from django.core.management.base import BaseCommand
from django.db import connection, transaction

from cases.models import ClientImport
from cases.security import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt NIK, phone and address (and uploaded client lists not yet imported) under the first key "
        "of FIELD_ENCRYPTION_KEY and recompute NIK hashes under FIELD_HASH_KEY. Run after putting a new key "
        "first; then remove the old key."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id, nik, phone, address FROM cases_client")
            for pk, nik, phone, address in cursor.fetchall():
                plain_nik = crypto.decrypt(nik) if nik else ""
                values = [crypto.reencrypt(v) if v else "" for v in (nik, phone, address)]
                nik_hash = crypto.keyed_hash(plain_nik) if plain_nik else ""
                cursor.execute(
                    "UPDATE cases_client SET nik = %s, phone = %s, address = %s, nik_hash = %s WHERE id = %s",
                    [*values, nik_hash, pk],
                )
                count += 1
        self.stdout.write(f"re-encrypted {count} clients")
        # Uploaded client lists awaiting review or import are kept encrypted too.
        imports = 0
        with transaction.atomic():
            for client_import in ClientImport.objects.select_for_update().exclude(content=b"").only("id", "content"):
                ClientImport.objects.filter(pk=client_import.pk).update(
                    content=crypto.fernet().rotate(bytes(client_import.content))
                )
                imports += 1
        self.stdout.write(f"re-encrypted {imports} uploaded client lists")
